"""Fixtures of the source's tests: the hostile server, for the client's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.hostile_server import HostileServer


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A fresh hostile server for one test."""
    with HostileServer() as server:
        yield server
