# roadwitness API image (CPU). Weights are NOT baked in: mount them at /models.
# Build from the repository root:  docker build -f docker/api.Dockerfile -t roadwitness-api .
# The review desk's map (Leaflet, BSD-2-Clause) from npm, pinned by api/desk/package-lock.json.
FROM node:20-bookworm-slim AS desk
WORKDIR /desk
COPY api/desk/package.json api/desk/package-lock.json ./
RUN npm ci --no-audit --no-fund

# The reporter page's resumable uploads (tus-js-client, MIT), pinned by api/report/package-lock.json.
FROM node:20-bookworm-slim AS report
WORKDIR /report
COPY api/report/package.json api/report/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm AS base
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    YOLO_OFFLINE=1 \
    ROADWITNESS_MODELS_DIR=/models \
    ROADWITNESS_DATA_DIR=/var/lib/roadwitness \
    ROADWITNESS_CACHE_DIR=/var/lib/roadwitness/cache \
    ROADWITNESS_LOG_FORMAT=json
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 fonts-noto-cjk curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY ingest ./ingest
COPY workers ./workers
COPY models ./models
COPY roadwitness ./roadwitness
COPY telemetry ./telemetry
COPY settings ./settings
COPY cases ./cases
COPY rules ./rules
COPY --from=desk /desk/node_modules/leaflet/dist ./api/desk/node_modules/leaflet/dist
COPY --from=report /report/node_modules/tus-js-client/dist ./api/report/node_modules/tus-js-client/dist
# The CPU build of torch keeps the image small (the GPU worker image uses the CUDA wheels).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1 \
 && pip install .
RUN useradd --create-home --uid 10001 roadwitness && mkdir -p /var/lib/roadwitness \
 && chown roadwitness /var/lib/roadwitness
USER roadwitness

FROM base AS api
# Two server processes share one /metrics through prometheus-client's multiprocess folder.
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/roadwitness-metrics
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["sh", "-c", "rm -rf $PROMETHEUS_MULTIPROC_DIR && mkdir -p $PROMETHEUS_MULTIPROC_DIR && exec roadwitness serve --host 0.0.0.0 --port 8000 --workers 2"]
