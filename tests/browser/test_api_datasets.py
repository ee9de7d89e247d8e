"""The Train tab through the Gradio API (``gradio_client``) from a fresh client: no page was
ever loaded, so nothing filled the dataset dropdown's choices in a browser."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dataset_files import TINY, zip_folder

START_FIELDS = dict(base_model="yolo11n.yaml", epochs=1, batch=8, imgsz=32, patience=100,
                    freeze_layers=0, lr0=0.01, lrf=0.01, model_name="", gpu=0.9,
                    optimizer="AdamW", workers=0, device="cpu", stop=False)


def _client(studio):  # noqa: ANN202 (a gradio_client.Client)
    from gradio_client import Client

    return Client(studio.url, verbose=False)


def test_dataset_info_and_start_work_from_a_fresh_client(studio) -> None:
    client = _client(studio)
    html = client.predict("bccd-tiny", api_name="/dataset_info")
    assert "28 images" in html
    jobs = client.predict("bccd-tiny", *START_FIELDS.values(), api_name="/start_training")
    client.predict(api_name="/cancel_training")
    assert any("bccd-tiny" in " ".join(map(str, row)) for row in jobs["data"])


def test_a_dataset_added_after_start_works_and_an_unknown_one_is_named(studio,
                                                                        tmp_path) -> None:
    from gradio_client import handle_file

    shutil.copytree(TINY, studio.root / "datasets" / "copied-later")
    client = _client(studio)
    assert "28 images" in client.predict("copied-later", api_name="/dataset_info")
    archive = zip_folder(TINY, tmp_path / "later.zip", top="later")
    client.predict(handle_file(str(archive)), "", "", api_name="/import_dataset")
    assert "28 images" in client.predict("later", api_name="/dataset_info")
    with pytest.raises(Exception, match="No dataset 'nope'"):
        client.predict("nope", api_name="/dataset_info")
    with pytest.raises(Exception, match="No dataset 'nope'"):
        client.predict("nope", *START_FIELDS.values(), api_name="/start_training")


def test_a_unicode_dataset_name_works_through_import_info_and_download(studio,
                                                                       tmp_path) -> None:
    from gradio_client import handle_file

    from yolo_studio.persistence.model_store import ModelStore

    client = _client(studio)
    archive = zip_folder(TINY, tmp_path / "células.zip", top="células")
    client.predict(handle_file(str(archive)), "", "", api_name="/import_dataset")
    assert (studio.root / "datasets" / "células" / "data.yaml").is_file()
    assert "28 images" in client.predict("células", api_name="/dataset_info")
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights of a model named in Unicode")
    ModelStore(studio.root / "models").save(
        "células", "modèle", weights, {"dataset": "células"}, {"final": {}, "history": []},
        {"base_model": "yolo11n.yaml"})
    path = client.predict("células", "modèle", "pt", api_name="/download_weights")
    assert Path(path).name == "células-modèle.pt"
    assert Path(path).read_bytes() == weights.read_bytes()
