# YOLO Studio on port 7860, CPU build of PyTorch by default.
# GPU: build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 and run with --gpus all.
FROM python:3.11-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    YOLO_STUDIO_ROOT=/data/yolo_studio

RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /tmp
# Dependencies first (a layer kept while only the studio's code changes).
COPY requirements.txt .
RUN pip install --index-url "$TORCH_INDEX" "torch<=2.14.1" "torchvision<=0.29.1" \
    && pip install -r requirements.txt

# The studio itself, installed as a package with the ONNX exporter (see .dockerignore for what
# stays out); the sources are removed, so every process imports the installed copy.
COPY . /tmp/src
RUN pip install "/tmp/src[export]" && rm -rf /tmp/src \
    && useradd -m -u 1000 studio && mkdir -p /data/yolo_studio && chown -R studio /data
USER studio
WORKDIR /home/studio
# Datasets, models and the job queue: mount a volume here to keep them.
VOLUME /data

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GRADIO_SERVER_PORT', '7860') + '/', timeout=8)"
# Listens on $GRADIO_SERVER_NAME:$GRADIO_SERVER_PORT (0.0.0.0:7860). The full studio needs a
# password (-e YOLO_STUDIO_AUTH=user:password); without one it serves the read-only demo.
CMD ["yolo-studio", "serve"]
