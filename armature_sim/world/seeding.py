"""Seeded draws: every value of the world comes from a generator private to one part of it.

A generator is seeded with the world seed plus labels (`seeded(7, "run", 12)`), never with
the OS, so the same options give the same world byte for byte on any machine.
"""

from __future__ import annotations

import hashlib
import random

# version nibble 4 and RFC 4122 variant bits, as uuid.UUID(int=..., version=4) sets them
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def seeded(seed: int, *labels: object) -> random.Random:
    """Return a generator private to one part of the world (string seeds hash the same everywhere)."""
    return random.Random(":".join(str(part) for part in (seed, *labels)))


def seeded_uuid(rng: random.Random) -> str:
    """Draw a version-4 UUID from `rng`, never from the OS (same text as `uuid.UUID(version=4)`)."""
    bits = rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high]; several times cheaper than `randint` on the hot paths."""
    return low + int(rng.random() * (high - low + 1))


def sha256_hex(text: str) -> str:
    """Hash the way Armature's SDK derives actor and event ids."""
    return hashlib.sha256(text.encode()).hexdigest()
