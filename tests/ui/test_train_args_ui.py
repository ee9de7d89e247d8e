"""The Train tab's Ultralytics arguments, command preview, presets, last configuration and
"Retry with changes", through the built app's handlers (a real TrainingManager over a tmp root;
nothing trains)."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import pytest
from dataset_files import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.snapshot import JobState
from yolo_studio.ui import train_args_panel as panel_module
from yolo_studio.ui import train_tab
from yolo_studio.ui.app import build_app
from yolo_studio.ui.hosting import plan, server_access

LOCAL = server_access(plan(None, 7860, False, None, {}))
FORM = ["bccd-tiny", "yolo11n.yaml", 1, 8, 64, 5, 0, 0.001, 0.01, "", 0.8, "AdamW", 0, "cpu",
        False, "mosaic: 0.0\n"]


@pytest.fixture
def manager(tmp_path: Path) -> TrainingManager:
    settings = StudioSettings(tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "bccd-tiny")
    return TrainingManager(settings)


@pytest.fixture
def demo(manager) -> gr.Blocks:
    return build_app(manager, None, LOCAL)


def _api(demo: gr.Blocks, name: str):  # noqa: ANN202
    return next(fn.fn for fn in demo.fns.values() if fn.api_name == name)


def _panel(demo: gr.Blocks) -> panel_module.ArgsPanel:
    """The ArgsPanel the app built (the one the YAML view's change event updates)."""
    [fn] = [fn for fn in demo.fns.values() if fn.inputs and fn.inputs[0].elem_id ==
            "extra-args" and len(fn.outputs) > 10]
    return fn.fn.__closure__[0].cell_contents


def test_a_box_edit_writes_the_yaml_and_the_yaml_marks_the_boxes(demo) -> None:
    panel = _panel(demo)
    spec = {s.name: s for s in panel.specs}
    assert [s.group for s in panel.specs][:1] == ["optimization"]
    text = panel_module.with_value("", spec["mosaic"], 0)
    assert text == "mosaic: 0.0\n"  # a whole number in a float box is a float
    text = panel_module.with_value(text, spec["cos_lr"], True)
    assert panel_module.with_value(text, spec["mosaic"], 1.0) == "cos_lr: true\n"  # default
    raws = [panel_module.shown(s, s.default) for s in panel.specs]
    updates = panel_module.box_updates(panel, "mosaic: 0.0\nfliplr: 0.25\n", raws)
    by_name = dict(zip([s.name for s in panel.specs], updates))
    assert by_name["mosaic"]["label"] == "mosaic ● changed (default 1.0)"
    assert by_name["mosaic"]["value"] == 0.0 and by_name["mosaic"]["elem_classes"] == [
        panel_module.CHANGED_CLASS]
    assert "value" not in by_name["hsv_h"]  # unchanged: the box keeps what it shows
    assert (by_name["hsv_h"]["label"], by_name["hsv_h"]["elem_classes"]) == ("hsv_h", [])
    titles = updates[len(panel.boxes):]
    assert titles[list(panel.groups).index("augmentation")]["label"] == "Augmentation (2 changed)"
    assert panel_module.box_updates(panel, "mosaic: [", raws)[0] is not None  # skipped, no error
    verbose = spec["verbose"]
    assert "studio default False; yolo train: True" in panel_module.info(verbose)


def test_a_yaml_change_echoing_a_box_edit_never_writes_the_boxes_values(demo) -> None:
    """A user typing 0.75 in fliplr: the box's input wrote "fliplr: 0.7" (echoed) when the box
    already said 0.75; that YAML's change must not put 0.7 back into the box (it did: the
    keystrokes typed meanwhile were lost). A YAML from elsewhere (a preset) still sets it."""
    panel = _panel(demo)
    names = [s.name for s in panel.specs]
    raws = [panel_module.shown(s, s.default) for s in panel.specs]
    raws[names.index("fliplr")] = 0.75  # typed on since the echo was sent
    echo = "fliplr: 0.7\n"
    updates = dict(zip(names, panel_module.yaml_changed(panel, echo, echo, raws)))
    assert "value" not in updates["fliplr"]
    assert updates["fliplr"]["label"].startswith("fliplr ● changed")
    preset = dict(zip(names, panel_module.yaml_changed(panel, echo, "", raws)))
    assert preset["fliplr"]["value"] == 0.7


def test_the_command_preview_follows_the_form(demo) -> None:
    command = _api(demo, "train_command")(*FORM)
    words = command.replace("\\\n", " ").split()
    assert words[:3] == ["yolo", "detect", "train"] and words[-1] == "mosaic=0.0"
    assert words[3].endswith("bccd-tiny/data.yaml") and "model=yolo11n.yaml" in words
    bad = list(FORM)
    bad[-1] = "mosaic: 3"
    assert _api(demo, "train_command")(*bad).startswith(
        "# Start would refuse this form: Train argument refused by Ultralytics: 'mosaic=3'")
    bad[-1] = "mosiac: 0.5"
    with pytest.raises(gr.Error, match="'mosiac' is not a valid YOLO argument"):
        _api(demo, "start_training")(*bad)


def test_presets_save_load_delete(demo, manager) -> None:
    dropdown = _api(demo, "save_preset")("no-mosaic", *FORM)
    assert dropdown.value == "no-mosaic" and dropdown.choices == [("no-mosaic", "no-mosaic")]
    values = _api(demo, "load_preset")("no-mosaic", "bccd-tiny")
    names = train_tab.FORM_FIELDS
    loaded = dict(zip(names, values))
    assert loaded["epochs"] == 1 and loaded["extra_args"] == "mosaic: 0.0\n"
    assert loaded["dataset"] == gr.skip() and loaded["model_name"] == gr.skip()
    with pytest.raises(gr.Error, match="No preset 'other'"):
        _api(demo, "load_preset")("other", "bccd-tiny")
    assert _api(demo, "delete_preset")("no-mosaic").choices == []


def test_start_remembers_the_form_and_a_page_load_brings_it_back(demo, manager) -> None:
    form = list(FORM)
    form[2], form[9] = 2, "kept"
    _api(demo, "start_training")(*form)
    [job] = manager.jobs()
    assert job.config["extra_args"] == {"mosaic": 0.0}
    values = train_tab.load_values(manager)
    loaded = dict(zip(train_tab.FORM_FIELDS, values))
    assert loaded["dataset"].value == "bccd-tiny" and loaded["epochs"] == 2
    assert loaded["extra_args"] == "mosaic: 0.0\n" and loaded["model_name"] == ""
    assert len(values) == len(train_tab.FORM_FIELDS) + 2  # then the presets' choices


def test_a_first_page_load_sends_freeze_layers_empty(manager) -> None:
    """Gradio's Number box shows a null it was built with as 0, which Start then sent: a
    ``.pt`` trained with nothing frozen instead of its default 10. With no last
    configuration the load sends it empty and leaves the other fields as built."""
    loaded = dict(zip(train_tab.FORM_FIELDS, train_tab.load_values(manager)))
    assert loaded["freeze_layers"] is None
    assert loaded["epochs"] == gr.skip() and loaded["extra_args"] == gr.skip()


def test_retry_with_changes_fills_the_form_from_a_finished_job(demo, manager) -> None:
    config = TrainingConfig(dataset="bccd-tiny", base_model="yolo11n.yaml", epochs=4,
                            extra_args={"fliplr": 0.25}, model_name="old")
    job = manager.queue.add(config.to_dict(), "old")
    with pytest.raises(gr.Error, match="is QUEUED: only a completed, failed"):
        _api(demo, "retry_with_changes")(job.job_id)
    manager.queue.update(job.job_id, state=JobState.ERROR)
    values = dict(zip(train_tab.FORM_FIELDS, _api(demo, "retry_with_changes")(job.job_id)))
    assert (values["epochs"], values["extra_args"], values["model_name"]) == (
        4, "fliplr: 0.25\n", "")
    assert len(manager.jobs()) == 1  # nothing queued until Start
    with pytest.raises(gr.Error, match="Choose a finished or failed job"):
        _api(demo, "retry_with_changes")(None)
