#!/usr/bin/env bash
# Download, on a machine with access to PyPI, the wheels bench/gpu.py installs on the GPU machine
# (Python 3.12, x86_64 Linux, no network there) into bench/.wheels/ (gitignored).
#
# The GPU machine has torch, torchvision, numpy, opencv-python-headless, pillow, matplotlib,
# pyyaml, requests, psutil, nvidia-ml-py, filelock and cloudpickle. What Ultralytics needs beyond
# them for a training run:
#   ultralytics        the trainer itself;
#   polars (+ its compiled runtime, polars-runtime-32)
#                      imported in training: plot_labels (plots=True), the trainer's
#                      read_results_csv (each checkpoint save) and plot_results;
#   ultralytics-thop   optional (the GFLOPs in the model summary), tiny, so taken along.
# Left out: ultralytics-platform (only a lazy attribute of the ultralytics package, never
# imported by training) and opencv-python (the headless OpenCV there provides cv2).
#
#   bash bench/gpu_wheels.sh          # then carry bench/.wheels/ to the GPU machine
set -euo pipefail

DEST="$(cd "$(dirname "$0")" && pwd)/.wheels"
MAX_MIB=60
WHEELS=(
  ultralytics==8.4.190
  ultralytics-thop==2.2.3
  polars==2.1.0
  polars-runtime-32==2.1.0
)

mkdir -p "$DEST"
for spec in "${WHEELS[@]}"; do
  python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux2014_x86_64 --dest "$DEST" "$spec"
done

total_kib=$(du -sk "$DEST" | cut -f1)
ls -l "$DEST"
echo "total: $((total_kib / 1024)) MiB in $DEST"
if (( total_kib > MAX_MIB * 1024 )); then
  echo "error: more than $MAX_MIB MiB" >&2
  exit 1
fi
