"""Input checked once, at the edge: a URL with credentials or a key that cannot travel in a
header is refused with a clear ConfigError (exit 2 from the command) that shows neither the
password nor the key, and nothing is sent."""

from __future__ import annotations

import re
from typing import Any

import pytest

from armature_source.credentials import Connection, normalize_base_url
from armature_source.errors import ConfigError
from armature_source.http.client import ArmatureClient
from tests.support.hostile_server import KEY, HostileServer, echo
from tests.support.warehouse import Warehouse

PASSWORD = "hunter2-s3cret"


@pytest.mark.parametrize("url", [
    f"https://user:{PASSWORD}@acme.armature.app",
    f"https://{PASSWORD}@acme.armature.app/api/armature/v1",
    f"http://user:{PASSWORD}@127.0.0.1:9",
])
def test_a_base_url_with_credentials_is_refused_without_showing_them(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalize_base_url(url)
    message = str(caught.value)
    assert "carries credentials" in message and "ARMATURE_API_KEY" in message
    assert PASSWORD not in message and "user:hunter" not in message


@pytest.mark.parametrize("url, expected", [
    (f"https://acme.armature.app/?token={PASSWORD}", "must not carry a query"),
    (KEY, "not an http(s) URL"),
    ("https://acme.armature.app:port", "port that is not a number"),
    ("https://acme armature.app", "spaces or control characters"),
    ("ftp://acme.armature.app", "not an http(s) URL"),
])
def test_a_bad_base_url_message_never_echoes_a_secret(url: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)) as caught:
        normalize_base_url(url)
    assert PASSWORD not in str(caught.value) and KEY not in str(caught.value)


@pytest.mark.parametrize("key, kind", [
    ("amt_demo_local\x07simulator", "a control character"),
    ("amt_demo_local\nsimulator", "a space"),
    ("amt_demo_local simulator", "a space"),
    ("amt_demo_localsimulatoré", "a character that is not ASCII"),
    ("amt_demo_local\u200bsimulator", "a control character"),
])
def test_a_key_that_cannot_travel_in_a_header_is_refused_and_never_sent(
    hostile: HostileServer, key: str, kind: str,
) -> None:
    hostile.route("/", echo())
    with pytest.raises(ConfigError) as caught:
        Connection.checked(hostile.api_url, key)
    message = str(caught.value)
    assert "malformed" in message and kind in message and "ARMATURE_API_KEY" in message
    assert key not in message and "simulator" not in message
    with pytest.raises(ConfigError):  # a Connection built by hand is checked by the client too
        ArmatureClient(Connection(hostile.api_url, key))
    assert hostile.requests == [], "a refused key must never be sent"


def test_the_command_exits_2_on_a_key_with_a_control_character_without_a_traceback(
    hostile: HostileServer, tmp_path: Any,
) -> None:
    key = "amt_demo_Zq9xK\x01Wv7Lp"
    done = Warehouse(tmp_path).cli("run", "--base-url", hostile.api_url, "--api-key", key)
    assert done.returncode == 2, done.stderr
    assert "malformed" in done.stderr and "Traceback" not in done.stderr
    assert "Zq9xK" not in done.stdout + done.stderr and "Wv7Lp" not in done.stdout + done.stderr
    assert hostile.requests == []


def test_the_command_exits_2_on_a_url_with_credentials_without_showing_them(tmp_path: Any) -> None:
    url = f"https://user:{PASSWORD}@acme.armature.app"
    done = Warehouse(tmp_path).cli("check", "--base-url", url, "--api-key", KEY)
    assert done.returncode == 2
    assert "carries credentials" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr and KEY not in done.stdout + done.stderr
