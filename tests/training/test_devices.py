"""``devices.check_device`` against what torch reports (patched: this machine has no GPU)."""

from __future__ import annotations

import pytest
import torch

from yolo_studio.errors import TrainingError
from yolo_studio.training.devices import check_device


@pytest.fixture
def gpus(monkeypatch):
    """Set how many CUDA GPUs torch sees."""
    def set_count(count: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return set_count


@pytest.mark.parametrize("device", ["0", "cuda:0", "cuda", "-1"])
def test_a_gpu_on_a_machine_without_cuda_is_refused(gpus, device):
    gpus(0)
    with pytest.raises(TrainingError, match="torch sees none.*empty.*cpu"):
        check_device(device)


@pytest.mark.parametrize("device", ["", "cpu"])
def test_cpu_and_automatic_always_pass(gpus, device):
    gpus(0)
    check_device(device)


def test_gpu_index_within_torch_devices_passes_and_beyond_is_refused(gpus, monkeypatch):
    gpus(2)
    for device in ("0", "1", "cuda:1", "cuda", "-1"):
        check_device(device)
    with pytest.raises(TrainingError, match="GPU 2.*sees 2 GPU.*0 to 1"):
        check_device("2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,2")  # physical ids, as Ultralytics maps them
    check_device("2")
    check_device("cuda:5")


def test_mps_needs_metal(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(TrainingError, match="mps.*Metal"):
        check_device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    check_device("mps")


def test_each_gpu_of_a_list_is_checked(gpus, monkeypatch):
    gpus(2)
    check_device("0,1")
    with pytest.raises(TrainingError, match=r"'0,2' asks for CUDA GPU 2 \(of 0,2\).*sees 2 "
                                            r"GPU.*0 to 1.*some of those"):
        check_device("0,2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,2")
    check_device("0,5")


def test_a_gpu_list_on_a_machine_without_cuda_is_refused(gpus):
    gpus(0)
    with pytest.raises(TrainingError, match="'0,1' asks for a CUDA GPU.*torch sees none"):
        check_device("0,1")
