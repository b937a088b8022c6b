# roadwitness CUDA worker image: ONNX Runtime with the CUDA execution provider (models/onnx.py
# picks CUDAExecutionProvider when it is available) and the CUDA build of torch.
# Video decode stays on the CPU: PyAV's wheels ship an FFmpeg built without NVDEC, and decoding
# is not the bottleneck (100-300 frames/s per 1080p stream on one core, see docs/operations.md).
# Build from the repository root:
#   docker build -f docker/worker-gpu.Dockerfile -t roadwitness-worker-gpu .
# Run with the NVIDIA container toolkit (compose profile "gpu", or a k8s nvidia.com/gpu limit).
FROM node:20-bookworm-slim AS desk
WORKDIR /desk
COPY api/desk/package.json api/desk/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1 \
    YOLO_OFFLINE=1 \
    ROADWITNESS_MODELS_DIR=/models \
    ROADWITNESS_DATA_DIR=/var/lib/roadwitness \
    ROADWITNESS_CACHE_DIR=/var/lib/roadwitness/cache \
    ROADWITNESS_LOG_FORMAT=json \
    ROADWITNESS_WORKER_METRICS_PORT=9100
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip python3-venv libgl1 \
    libglib2.0-0 fonts-noto-cjk curl \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
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
# onnxruntime-gpu provides the same "onnxruntime" module with the CUDA provider; the CPU
# onnxruntime that other packages pull in is removed so the GPU build is the one imported.
RUN pip install --index-url https://download.pytorch.org/whl/cu126 torch==2.14.1 torchvision==0.29.1 \
 && pip install . \
 && pip uninstall -y onnxruntime \
 && pip install "onnxruntime-gpu>=1.20"
RUN useradd --create-home --uid 10001 roadwitness && mkdir -p /var/lib/roadwitness/cache \
 && chown -R roadwitness /var/lib/roadwitness
USER roadwitness
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=180s \
  CMD curl -fsS http://127.0.0.1:9100/readyz || exit 1
CMD ["roadwitness", "worker"]
