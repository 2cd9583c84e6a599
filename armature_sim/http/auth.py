"""Who is calling: the bearer key from the request, and the role it carries."""

from __future__ import annotations

from collections.abc import Iterable

from armature_sim.vocabulary import API_KEYS


def bearer_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key from `Authorization: Bearer <key>` (scheme in any case), or None."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").strip().partition(" ")
            return key.strip() if scheme.lower() == "bearer" and key.strip() else None
    return None


def role_of(key: str | None) -> str | None:
    """The role of a known key, or None."""
    return API_KEYS[key][2] if key in API_KEYS else None
