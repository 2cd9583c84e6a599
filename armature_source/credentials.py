"""The base URL and the API key, checked before anything is sent.

Settings are resolved in `config.py`; a `Connection` is the checked result, and the only thing
the HTTP client takes, so a key is checked once, when its connection is made.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from armature_source.errors import ConfigError
from armature_source.vocabulary import API_PREFIX

KEY_HELP = "Set ARMATURE_API_KEY, pass --api-key, or set [sources.armature] api_key in .dlt/secrets.toml."
URL_HELP = "Set ARMATURE_BASE_URL, pass --base-url, or set [sources.armature] base_url in .dlt/config.toml."


def normalize_base_url(base_url: str, allow_http: bool = False) -> str:
    """Turn a dashboard URL or a REST base into the REST base ending in /api/armature/v1.

    Raises:
        ConfigError: the URL is empty, not http(s), carries credentials, a query or a
            fragment, or is plain http to a non-local host. The message never shows a
            password, a query, or a value that is not a URL at all (it may be a key).
    """
    url = (base_url or "").strip().rstrip("/")
    if not url:
        raise ConfigError(f"No Armature base URL is configured. {URL_HELP}")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise ConfigError(f"The base URL holds spaces or control characters. {URL_HELP}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            "The base URL is not an http(s) URL (it should start with https://, e.g. "
            f"https://your-org.armature.app). {URL_HELP}"
        )
    if "@" in parts.netloc:
        raise ConfigError(
            "The base URL carries credentials (user:password@host); they are not sent and "
            "must not be stored there. Remove them: the API key goes in ARMATURE_API_KEY or "
            f"[sources.armature] api_key in .dlt/secrets.toml. {URL_HELP}"
        )
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
    try:
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"The base URL {shown!r} has a port that is not a number. {URL_HELP}") from None
    if not host:
        raise ConfigError(f"The base URL {shown!r} names no host. {URL_HELP}")
    if parts.query or parts.fragment:
        raise ConfigError(f"The base URL {shown!r} must not carry a query or fragment. {URL_HELP}")
    if parts.scheme == "http" and not allow_http and not _is_loopback(host):
        raise ConfigError(
            f"The base URL {shown!r} uses plain http to a non-local host; the API key would "
            "travel unencrypted. Use https, or set allow_insecure_http (--allow-insecure-http) "
            "if you really mean it."
        )
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return f"{parts.scheme}://{parts.netloc}{path}{API_PREFIX}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_key(api_key: str | None) -> str:
    """Return the key if it has Armature's shape `amt_<key-id>_<secret>`.

    A key travels in a header, so it must be printable ASCII without spaces: anything else
    is refused here, before it is sent anywhere.

    Raises:
        ConfigError: the key is missing or malformed (its value is never echoed).
    """
    key = (api_key or "").strip()
    if not key:
        raise ConfigError(f"No Armature API key is configured. {KEY_HELP}")
    bad = next((i for i, c in enumerate(key) if not "!" <= c <= "~"), None)
    if bad is not None:
        char = key[bad]
        kind = "a space" if char.isspace() else "a control character" if not char.isprintable() \
            else "a character that is not ASCII"
        raise ConfigError(
            f"The Armature API key is malformed: character {bad + 1} of {len(key)} is {kind}. "
            "Keys are printable ASCII (amt_<key-id>_<secret>); copy it again from Settings -> "
            f"API keys in the dashboard. {KEY_HELP}"
        )
    if not key.startswith("amt_") or key.count("_") < 2:
        raise ConfigError(
            "The Armature API key is malformed: it should look like amt_<key-id>_<secret> "
            f"(Settings -> API keys in the dashboard). {KEY_HELP}"
        )
    return key


def secret_parts(key: str) -> tuple[str, ...]:
    """The strings to keep out of every message: the key, and its secret when long enough to
    be told apart from ordinary words."""
    secret = key.split("_", 2)[-1]
    return (key, secret) if len(secret) >= 8 else (key,)


@dataclass(frozen=True)
class Connection:
    """Where to read and with which key, checked when made; the key never shows in a repr."""

    api_url: str
    api_key: str = field(repr=False)
    allow_http: bool = False

    def __post_init__(self) -> None:
        check_api_key(self.api_key)  # a Connection made by hand is checked too

    @classmethod
    def checked(cls, base_url: str | None, api_key: str | None, allow_http: bool = False) -> "Connection":
        """The connection from resolved settings, its URL normalized.

        Raises:
            ConfigError: the URL or the key is missing or malformed (the key is never echoed).
        """
        url = normalize_base_url(base_url or "", allow_http)
        return cls(url, check_api_key(api_key), allow_http)
