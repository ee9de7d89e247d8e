# YOLO Studio on port 7860, CPU build of PyTorch by default.
# GPU: build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 and run with --gpus all.
FROM python:3.11-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    YOLO_STUDIO_ROOT=/data/yolo_studio

RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --index-url "$TORCH_INDEX" "torch<=2.14.1" "torchvision<=0.29.1" \
    && pip install -r requirements.txt

COPY . .
RUN useradd -m -u 1000 studio && mkdir -p /data/yolo_studio && chown -R studio /data /app
USER studio

EXPOSE 7860
# Listening on 0.0.0.0 requires authentication: pass -e YOLO_STUDIO_AUTH=user:password.
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860"]
