# roadwitness CPU worker image: the API image's base, started as a worker with its probe port.
# Build from the repository root:  docker build -f docker/worker.Dockerfile -t roadwitness-worker .
FROM node:20-bookworm-slim AS desk
WORKDIR /desk
COPY api/desk/package.json api/desk/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    YOLO_OFFLINE=1 \
    ROADWITNESS_MODELS_DIR=/models \
    ROADWITNESS_DATA_DIR=/var/lib/roadwitness \
    ROADWITNESS_CACHE_DIR=/var/lib/roadwitness/cache \
    ROADWITNESS_LOG_FORMAT=json \
    ROADWITNESS_WORKER_METRICS_PORT=9100
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
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1 \
 && pip install .
RUN useradd --create-home --uid 10001 roadwitness && mkdir -p /var/lib/roadwitness/cache \
 && chown -R roadwitness /var/lib/roadwitness
USER roadwitness
EXPOSE 9100
# Ready (200) only once the models are loaded; /metrics on the same port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s \
  CMD curl -fsS http://127.0.0.1:9100/readyz || exit 1
CMD ["roadwitness", "worker"]
