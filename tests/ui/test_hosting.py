"""Launch options: authentication is required whenever the app is reachable beyond localhost."""

from __future__ import annotations

import pytest

from yolo_studio.errors import ValidationError
from yolo_studio.ui.hosting import is_loopback, parse_auth, plan


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
