"""``train ... key=value``: any Ultralytics train argument on the command line, checked by
Ultralytics before anything is queued, printed as the equivalent yolo command, and (one real
CPU run) found in the run's args.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dataset_files import TINY

from yolo_studio.cli import main
from yolo_studio.config import TrainingConfig
from yolo_studio.persistence.train_presets import TrainPresets
from yolo_studio.training.queue import JobQueue
from yolo_studio.training.snapshot import JobState

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    root = tmp_path / "root"
    shutil.copytree(TINY, root / "datasets" / "tiny")
    return root


def _train(root: Path, *extra: str) -> list[str]:
    return ["--root", str(root), "train", "--dataset", "tiny", "--base-model", "yolo11n.yaml",
            "--epochs", "1", "--imgsz", "64", "--batch", "8", "--workers", "0", "--device",
            "cpu", *extra]


@pytest.mark.parametrize("pairs, message", [
    (["mosiac=0.0"], "Unknown train argument: 'mosiac' is not a valid YOLO argument"),
    (["fliplr=2"], "'fliplr=2' is an invalid value"),
    (["epochs=3"], "--epochs 1 and epochs=3 disagree"),
    (["project=elsewhere"], "project cannot be set: the studio chooses the run folder"),
    (["mosaic"], "'mosaic' is not a train argument: write key=value"),
])
def test_wrong_pairs_exit_2_naming_the_argument(root, capsys, pairs, message) -> None:
    assert main(_train(root, "--model-name", "x", *pairs)) == 2
    assert message in capsys.readouterr().err
    assert not (root / "jobs" / "queue.json").exists()


def _read_command(text: str) -> dict:
    from ultralytics.cfg import parse_key_value_pair
    import shlex

    words = shlex.split(text.split("\n#")[0].replace("\\\n", " "))
    return dict(parse_key_value_pair(word) for word in words[3:])


def test_a_real_run_gets_the_pairs_and_the_printed_command_reproduces_it(root, capsys) -> None:
    pairs = ["mosaic=0.0", "fliplr=0.25", "cos_lr=True", "plots=False"]
    assert main(_train(root, "--print-command", "lr0=0.002", *pairs)) == 0
    command = _read_command(capsys.readouterr().out)
    assert not (root / "jobs").exists()  # printed, nothing queued
    assert main(_train(root, "--model-name", "kv", "lr0=0.002", *pairs)) == 0
    out = capsys.readouterr().out
    assert "Registered model kv" in out
    [args_yaml] = (root / "jobs" / "runs").glob("*/args.yaml")
    args = yaml.safe_load(args_yaml.read_text())
    assert (args["mosaic"], args["fliplr"], args["cos_lr"], args["plots"], args["lr0"]) == (
        0.0, 0.25, True, False, 0.002)
    # every argument of the printed yolo command is what the studio's run used
    assert {key: args[key] for key in command} == command
    config = yaml.safe_load((root / "models" / "tiny" / "models" / "kv" / "config.yaml")
                            .read_text())
    assert config["extra_args"] == {"cos_lr": True, "fliplr": 0.25, "mosaic": 0.0,
                                    "plots": False}
    assert main(["--root", str(root), "models", "show", "kv", "--dataset", "tiny"]) == 0
    assert "extra_args.mosaic: 0.0" in capsys.readouterr().out
    last = TrainPresets(root).last(["tiny"])  # the Train tab opens with it
    assert last.extra_args == config["extra_args"] and last.lr0 == 0.002


def test_presets_and_a_finished_job_as_the_starting_point(root, capsys) -> None:
    assert main(["--root", str(root), "train", "--dataset", "tiny", "--epochs", "5",
                 "--save-preset", "no-mosaic", "--print-command", "mosaic=0.0"]) == 0
    out = capsys.readouterr().out
    assert "Preset no-mosaic saved." in out and "note:" not in out
    assert main(["--root", str(root), "train", "--dataset", "tiny", "--preset", "no-mosaic",
                 "--print-command", "fliplr=0.25"]) == 0
    command = _read_command(capsys.readouterr().out)
    assert (command["epochs"], command["mosaic"], command["fliplr"]) == (5, 0.0, 0.25)
    job = JobQueue(root / "jobs" / "queue.json").add(
        TrainingConfig(dataset="tiny", epochs=7, extra_args={"cos_lr": True},
                       model_name="old").to_dict(), "old")
    assert main(["--root", str(root), "train", "--from-job", job.job_id, "--print-command"]) == 2
    assert "is QUEUED: only a completed, failed" in capsys.readouterr().err
    JobQueue(root / "jobs" / "queue.json").update(job.job_id, state=JobState.ERROR)
    assert main(["--root", str(root), "train", "--from-job", job.job_id, "--print-command",
                 "--epochs", "2", "mosaic=0.5"]) == 0
    command = _read_command(capsys.readouterr().out)
    assert (command["epochs"], command["cos_lr"], command["mosaic"]) == (2, True, 0.5)
    assert main(["--root", str(root), "train", "--preset", "nope", "--print-command"]) == 2
    assert "No preset 'nope'; saved presets: no-mosaic" in capsys.readouterr().err
