"""Keeping the API key out of the HTTP libraries' own log lines. Part of the client.

aiohttp and asyncio log what goes wrong with a connection or a response at DEBUG and
WARNING; a host that echoes the request back (a debugging proxy, a hostile one) could put
the key into such a line. A filter on their loggers replaces every key of a live client first.
"""

from __future__ import annotations

import logging
import threading

# aiohttp logs through these children; a filter on a parent does not see their records
HTTP_LOGGERS = ("aiohttp.client", "aiohttp.internal", "asyncio")
MASK = "<api key>"


class _SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__("armature-secrets")
        self.secrets: dict[str, int] = {}
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            secrets = list(self.secrets)
        if not secrets:
            return True
        text = record.getMessage()
        if any(secret in text for secret in secrets):
            for secret in secrets:
                text = text.replace(secret, MASK)
            record.msg, record.args = text, ()
        return True


_FILTER = _SecretFilter()


def hide(secrets: tuple[str, ...]) -> None:
    """Mask `secrets` in the HTTP libraries' log lines until `unhide` is called as often."""
    with _FILTER.lock:
        if not _FILTER.secrets:  # installed on first use: importing has no side effects
            for name in HTTP_LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
        for secret in secrets:
            _FILTER.secrets[secret] = _FILTER.secrets.get(secret, 0) + 1


def unhide(secrets: tuple[str, ...]) -> None:
    with _FILTER.lock:
        for secret in secrets:
            left = _FILTER.secrets.get(secret, 0) - 1
            if left > 0:
                _FILTER.secrets[secret] = left
            else:
                _FILTER.secrets.pop(secret, None)
