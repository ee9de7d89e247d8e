"""train_command: the yolo command a shell runs to train as a studio job does."""

from __future__ import annotations

import shlex

from ultralytics.cfg import parse_key_value_pair

from yolo_studio.config import TrainingConfig
from yolo_studio.training.train_command import cli_value, yolo_command


def read_back(command: str) -> dict:
    """The arguments the yolo CLI reads from ``command`` (its ``key=value`` words, read by
    Ultralytics' own parser; the comment line left out)."""
    words = shlex.split(command.split("\n#")[0].replace("\\\n", " "))
    assert words[:3] == ["yolo", "detect", "train"]
    return dict(parse_key_value_pair(word) for word in words[3:])


def test_the_yolo_cli_reads_back_every_argument_of_the_run() -> None:
    config = TrainingConfig(dataset="bccd", base_model="yolo11n.pt", epochs=3, device="cpu",
                            extra_args={"mosaic": 0.0, "classes": [0, 2], "cache": "disk",
                                        "split": "val", "scale": [0.5, 1.5], "time": None})
    command = yolo_command(config, "/data/my sets/bccd/data.yaml")
    args = read_back(command)
    expected = {k: v for k, v in config.to_train_kwargs().items() if k != "exist_ok"}
    assert args == {"data": "/data/my sets/bccd/data.yaml", "model": "yolo11n.pt", **expected}
    assert args["freeze"] == 10 and args["optimizer"] == "AdamW" and args["verbose"] is False
    assert "GPU memory" not in command  # device cpu: no cap to mention
    assert all(len(line) <= 88 for line in command.splitlines())


def test_texts_that_would_read_as_other_types_are_quoted() -> None:
    assert [cli_value(v) for v in ("0", "True", "disk", "", 0.001, [0, "a"], None)] == [
        "'0'", "'True'", "disk", "''", "0.001", "[0,'a']", "None"]
    command = yolo_command(TrainingConfig(device="0", batch=-1), "d.yaml")
    assert read_back(command)["device"] == "0" and read_back(command)["batch"] == 0.8
    assert command.endswith("caps this process's GPU memory at 80% (max_gpu_memory_percent)")


def test_the_command_trains_on_the_yaml_the_job_uses(tmp_path) -> None:
    """A data.yaml with a relative ``path:`` would be resolved against Ultralytics' own
    datasets folder by a shell run: the command names the studio's resolved copy, as a job's
    start does."""
    import shutil

    from dataset_files import TINY

    from yolo_studio.persistence.dataset_store import RESOLVED_YAML, DatasetStore
    from yolo_studio.training.train_command import job_command

    store = DatasetStore(tmp_path / "datasets")
    shutil.copytree(TINY, tmp_path / "datasets" / "tiny")
    assert read_back(job_command(TrainingConfig(dataset="tiny"), store))["data"] == str(
        tmp_path / "datasets" / "tiny" / "data.yaml")
    yaml_path = tmp_path / "datasets" / "tiny" / "data.yaml"
    yaml_path.write_text("path: .\n" + yaml_path.read_text())
    data = read_back(job_command(TrainingConfig(dataset="tiny"), store))["data"]
    assert data == str(tmp_path / "datasets" / "tiny" / RESOLVED_YAML)
