"""The default storage root: Spaces' /data, a source checkout's folder, else the user data
folder of an installed studio (never inside site-packages)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from yolo_studio import config
from yolo_studio.config import StudioSettings, default_root, source_checkout

REPO = Path(__file__).resolve().parent.parent


def _package(parent: Path, with_app: bool) -> Path:
    package = parent / "yolo_studio"
    package.mkdir(parents=True)
    if with_app:
        (parent / "app.py").write_text("")
    return package


@pytest.fixture
def no_spaces_disk(tmp_path, monkeypatch) -> Path:
    """No writable /data; the user data folder under ``tmp_path/xdg`` (Linux's XDG rule)."""
    monkeypatch.setattr(config, "SPACES_DATA_DIR", tmp_path / "no-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("YOLO_STUDIO_ROOT", raising=False)
    return tmp_path / "xdg" / "yolo-studio"


def test_this_checkout_is_a_source_checkout() -> None:
    assert source_checkout() == REPO


def test_a_checkout_needs_app_py_beside_the_package(tmp_path) -> None:
    assert source_checkout(_package(tmp_path / "repo", with_app=True)) == tmp_path / "repo"
    assert source_checkout(_package(tmp_path / "target", with_app=False)) is None


def test_a_package_in_site_packages_is_installed_even_beside_an_app_py(tmp_path) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    assert source_checkout(_package(site, with_app=True)) is None
    assert source_checkout(_package(tmp_path / "dist-packages", with_app=True)) is None


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG rule of Linux")
def test_an_installed_package_stores_in_the_user_data_folder(tmp_path, no_spaces_disk) -> None:
    site = tmp_path / "lib" / "site-packages"
    assert default_root(_package(site, with_app=True)) == no_spaces_disk
    assert default_root(_package(tmp_path / "target", with_app=False)) == no_spaces_disk


def test_a_checkout_stores_in_its_folder(tmp_path, no_spaces_disk) -> None:
    assert default_root(_package(tmp_path / "repo", with_app=True)) == tmp_path / "repo"
    assert StudioSettings.resolve().root == REPO


def test_a_writable_data_folder_wins_over_both(tmp_path, monkeypatch) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.setattr(config, "SPACES_DATA_DIR", tmp_path / "data")
    monkeypatch.delenv("YOLO_STUDIO_ROOT", raising=False)
    assert default_root() == tmp_path / "data" / "yolo_studio"
    assert StudioSettings.resolve().root == (tmp_path / "data" / "yolo_studio").resolve()


def test_the_argument_and_the_environment_win_over_the_default(tmp_path, monkeypatch,
                                                               no_spaces_disk) -> None:
    monkeypatch.setenv("YOLO_STUDIO_ROOT", str(tmp_path / "env"))
    assert StudioSettings.resolve().root == (tmp_path / "env").resolve()
    assert StudioSettings.resolve(tmp_path / "arg").root == (tmp_path / "arg").resolve()
