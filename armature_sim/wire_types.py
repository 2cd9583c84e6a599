"""The types and marks wire records are written in (`armature_sim.records`).

A mark rides along in `typing.Annotated` and says what the OpenAPI document needs beyond the
Python type; `armature_sim.schemas` reads them. The aliases name the member types that recur:
a count, a share from 0 to 1, a calendar date, open-ended JSON.

This module has no `from __future__ import annotations`: the aliases are used as objects.
"""

from dataclasses import dataclass
from typing import Annotated, Any


@dataclass(frozen=True)
class Doc:
    """A member's description in the document."""

    text: str


@dataclass(frozen=True)
class OneOf:
    """The values a string member takes."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class Bounds:
    """The smallest and largest value a number takes."""

    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Format:
    """A string format other than `date-time` (which `datetime` says already)."""

    name: str


@dataclass(frozen=True)
class Listed:
    """Marks a list envelope's array: a dialect may serve it under another key (alt: `data`)."""


@dataclass(frozen=True)
class PageCap:
    """Marks a page size: its maximum is the dialect's cap."""


Opaque = dict[str, Any]  # open-ended JSON, passed through as served (vocabulary.OPAQUE_KEYS)
Count = Annotated[int, Bounds(minimum=0)]
Share = Annotated[float, Bounds(minimum=0, maximum=1)]
IsoDate = Annotated[str, Format("date")]
