"""Launch options: authentication is required whenever the app is reachable beyond localhost."""

from __future__ import annotations

import pytest

from yolo_studio.errors import ValidationError
from yolo_studio.ui.hosting import (ALLOW_UPLOAD_ENV, ServerAccess, is_loopback, parse_auth,
                                     plan, server_access)


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
    (None, True, {}, "share link"),
    (None, False, {"SPACE_ID": "me/studio"}, "Hugging Face Spaces"),
])
def test_reachable_app_refuses_to_start_without_auth(host, share, env, reason) -> None:
    with pytest.raises(ValidationError, match="Refusing to start without authentication") as err:
        plan(host, 7860, share, None, env)
    assert reason in str(err.value)


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
