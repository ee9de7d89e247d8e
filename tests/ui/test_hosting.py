"""Launch options: a studio reachable beyond localhost without a password is a read-only demo;
the demo's banner, and the notice that models are lost on a Space without persistent storage."""

from __future__ import annotations

import pytest

from yolo_studio.errors import ValidationError
from yolo_studio.ui.hosting import (ALLOW_UPLOAD_ENV, ServerAccess, demo_banner, is_loopback,
                                     parse_auth, plan, server_access, storage_note)


def test_parse_auth() -> None:
    assert parse_auth(None) == () and parse_auth("  ") == ()
    assert parse_auth("ann:s3cret") == (("ann", "s3cret"),)
    assert parse_auth("a:1, b:pa:ss") == (("a", "1"), ("b", "pa:ss"))
    for bad in ("ann", "ann:", ":pw", "a:1,b"):
        with pytest.raises(ValidationError, match="USER:PASS"):
            parse_auth(bad)


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert not is_loopback("my-host.example")


def test_local_default_needs_no_auth() -> None:
    p = plan(None, 7860, False, None, {})
    assert (p.host, p.port, p.share, p.auth) == ("127.0.0.1", 7860, False, ())
    assert p.public_reason is None


@pytest.mark.parametrize("host, share, env, reason", [
    ("0.0.0.0", False, {}, "listening on 0.0.0.0"),
    ("192.168.1.4", False, {}, "listening on 192.168.1.4"),
    (None, True, {}, "share link"),
    (None, False, {"SPACE_ID": "me/studio"}, "Hugging Face Spaces"),
])
def test_reachable_app_without_auth_is_a_demo(host, share, env, reason) -> None:
    p = plan(host, 7860, share, None, env)  # no longer refuses to start
    assert p.demo and not p.demo_asked and p.auth == ()
    assert reason in p.public_reason and reason in p.demo_reason
    assert "no password" in p.demo_reason


# (host, share, --auth, env, --demo) -> demo?
@pytest.mark.parametrize("host, share, auth, env, demo, expected", [
    (None, False, None, {}, False, False),                          # local: the full studio
    ("127.0.0.1", False, None, {}, False, False),
    ("::1", False, None, {}, False, False),
    ("0.0.0.0", False, "u:p", {}, False, False),                    # reachable with a password
    (None, True, None, {"YOLO_STUDIO_AUTH": "u:p"}, False, False),
    (None, False, None, {"SPACE_ID": "me/s", "YOLO_STUDIO_AUTH": "u:p"}, False, False),
    ("0.0.0.0", False, None, {}, False, True),                      # reachable, no password
    (None, True, None, {}, False, True),
    (None, False, None, {"SPACE_ID": "me/s"}, False, True),
    (None, False, None, {"SPACE_ID": "me/s", "YOLO_STUDIO_AUTH": " "}, False, True),
    (None, False, None, {}, True, True),                            # asked for: --demo
    ("0.0.0.0", False, "u:p", {}, True, True),
    (None, False, None, {"YOLO_STUDIO_DEMO": "1"}, False, True),    # or the variable
    (None, False, None, {"SPACE_ID": "me/s", "YOLO_STUDIO_AUTH": "u:p",
                         "YOLO_STUDIO_DEMO": "yes"}, False, True),
    (None, False, None, {"YOLO_STUDIO_DEMO": "0"}, False, False),
])
def test_which_launches_are_a_demo(host, share, auth, env, demo, expected) -> None:
    p = plan(host, 7860, share, auth, env, demo=demo)
    assert p.demo is expected
    assert (p.demo_reason is not None) is expected
    access = server_access(p, True, env)
    assert access.demo is expected and bool(access.demo_note) is expected
    if expected:  # nothing of the server's files either, whatever the operator allowed
        assert not access.weights_upload and not access.folder_import


def test_demo_keeps_a_password_it_was_given() -> None:
    p = plan("0.0.0.0", 7860, False, "u:p", {}, demo=True)
    assert p.demo and p.demo_asked and p.auth == (("u", "p"),)
    assert "--demo" in p.demo_reason


def test_demo_banner_says_how_to_get_the_full_studio() -> None:
    assert demo_banner(plan(None, 7860, False, None, {})) == ""
    public = demo_banner(plan("0.0.0.0", 7860, False, None, {}))
    assert "Read-only demo" in public and "Training" in public and "exports are off" in public
    assert "YOLO_STUDIO_AUTH=USER:PASS" in public and "--auth" in public
    assert "--demo" not in public
    asked = demo_banner(plan(None, 7860, False, None, {}, demo=True))
    assert "without `--demo`" in asked and "YOLO_STUDIO_AUTH" not in asked
    both = demo_banner(plan(None, 7860, True, None, {}, demo=True))
    assert "without `--demo`" in both and "--auth USER:PASS" in both
    space = demo_banner(plan(None, 7860, False, None, {"SPACE_ID": "me/s"}))
    assert "Duplicate this Space" in space and "`YOLO_STUDIO_AUTH`" in space
    assert "remove" not in space
    asked_space = demo_banner(plan(None, 7860, False, None, {"SPACE_ID": "me/s",
                                                              "YOLO_STUDIO_DEMO": "1"}))
    assert "remove `YOLO_STUDIO_DEMO`" in asked_space


def test_storage_note_on_a_space_without_persistent_storage(tmp_path) -> None:
    space = {"SPACE_ID": "me/s"}
    missing = tmp_path / "no-data"  # no /data: the Space's disk is wiped at a restart
    note = storage_note(space, tmp_path / "root", data_dir=missing)
    assert "lost when this Space restarts" in note and "no persistent storage" in note
    assert str(tmp_path / "root") in note and "persistent storage" in note
    data = tmp_path / "data"
    data.mkdir()
    assert storage_note(space, data / "yolo_studio", data_dir=data) == ""
    outside = storage_note(space, tmp_path / "elsewhere", data_dir=data)
    assert "outside the persistent" in outside and "lost" in outside
    assert storage_note({}, tmp_path / "root", data_dir=missing) == "", "not on Spaces"
    assert storage_note(space, None, data_dir=missing) == ""


def test_server_access_carries_the_storage_note(tmp_path) -> None:
    env = {"SPACE_ID": "me/s", "YOLO_STUDIO_AUTH": "u:p"}
    access = server_access(plan(None, 7860, False, None, env), False, env, tmp_path)
    if not storage_note(env, tmp_path):  # this machine has a writable /data holding tmp_path
        pytest.skip("tmp_path lies on a writable /data")
    assert not access.demo and "lost when this Space restarts" in access.storage_note
    demo_env = {"SPACE_ID": "me/s"}
    demo = server_access(plan(None, 7860, False, None, demo_env), False, demo_env, tmp_path)
    assert demo.demo and "lost when this Space restarts" in demo.storage_note
    assert server_access(plan(None, 7860, False, None, {}), False, {}, tmp_path).storage_note == ""


def test_reachable_app_with_auth_from_flag_or_env() -> None:
    p = plan(None, 7860, False, None, {"SPACE_ID": "me/studio", "YOLO_STUDIO_AUTH": "u:p"})
    assert p.host == "0.0.0.0" and p.auth == (("u", "p"),)
    assert "Spaces" in p.public_reason
    p = plan("0.0.0.0", 8000, True, "x:y", {"YOLO_STUDIO_AUTH": "u:p"})
    assert p.auth == (("x", "y"),) and p.share


def test_bad_port() -> None:
    with pytest.raises(ValidationError, match="Port 0"):
        plan(None, 0, False, None, {})


def test_local_studio_allows_uploads_and_folder_imports() -> None:
    access = server_access(plan(None, 7860, False, None, {}))
    assert access.weights_upload and access.folder_import


@pytest.mark.parametrize("host, share, env", [
    ("0.0.0.0", False, {}), (None, True, {}), (None, False, {"SPACE_ID": "me/studio"}),
])
def test_reachable_studio_turns_uploads_off_and_says_why(host, share, env) -> None:
    hosting = plan(host, 7860, share, "u:p", env)
    access = server_access(hosting, False, env)
    assert not access.weights_upload and not access.folder_import
    assert "pickle" in access.weights_note and "--allow-weights-upload" in access.weights_note
    assert hosting.public_reason in access.weights_note
    assert "Upload a .zip" in access.folder_note


@pytest.mark.parametrize("flag, env_value, allowed", [
    (True, None, True), (False, "1", True), (False, "yes", True), (False, "0", False),
    (False, "", False),
])
def test_operator_can_turn_weights_upload_on(flag, env_value, allowed) -> None:
    env = {ALLOW_UPLOAD_ENV: env_value} if env_value is not None else {}
    access = server_access(plan("0.0.0.0", 7860, False, "u:p", env), flag, env)
    assert access.weights_upload is allowed
    assert not access.folder_import, "the weights flag does not open server folders"


def test_unknown_hosting_default_is_off() -> None:
    access = ServerAccess()
    assert not access.weights_upload and not access.folder_import
    assert "YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD" in access.weights_note
