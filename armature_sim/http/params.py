"""Reading a request: query parameters, the path's id, the JSON body; a bad one is a 400 or 404."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from starlette.datastructures import QueryParams
from starlette.requests import Request

from armature_sim.http.errors import ApiError, invalid
from armature_sim.vocabulary import DEFAULT_INSIGHT_RANGE, INSIGHT_RANGES, Limit


class _Identified(Protocol):
    id: str


_Item = TypeVar("_Item", bound=_Identified)


def one_of(query: QueryParams, name: str, allowed: Iterable[str], default: str | None) -> str | None:
    """A parameter that must be one of `allowed` (absent means `default`; empty is not a value,
    as the document's enum says)."""
    value = query.get(name)
    if value is None:
        return default
    choices = list(allowed)
    if value not in choices:
        raise invalid(name, f"{name} must be one of {', '.join(choices)}.", allowed=choices, value=value)
    return value


def chosen(query: QueryParams, name: str, allowed: Iterable[str], default: str) -> str:
    """A parameter that must be one of `allowed` and always has a value (absent means `default`)."""
    return one_of(query, name, allowed, default) or default


def whole(query: QueryParams, name: str, default: int, cap: int | None = None) -> int:
    """A positive whole-number parameter; values above `cap` are served as `cap`."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"{name} must be a whole number.", value=raw) from None
    if value < 1:
        raise invalid(name, f"{name} must be at least 1.", value=raw)
    return min(value, cap) if cap else value


def limited(query: QueryParams, name: str, limit: Limit, cap: int | None = None) -> int:
    """A size parameter: its default when absent, served at the cap when larger."""
    return whole(query, name, limit.default, cap=cap or limit.cap)


def insight_range(request: Request) -> tuple[str, int]:
    """The insights `range` (default 7d) and its length."""
    name = chosen(request.query_params, "range", INSIGHT_RANGES, DEFAULT_INSIGHT_RANGE)
    return name, INSIGHT_RANGES[name]


def found(items: Mapping[str, _Item] | Iterable[_Item], request: Request) -> _Item:
    """The item the path's `{id}` names, or a 404 not_found."""
    key = request.path_params["id"]
    if isinstance(items, Mapping):
        item = items.get(key)
    else:
        item = next((i for i in items if i.id == key), None)
    if item is None:
        raise ApiError("not_found", f"No such resource: {key}.")
    return item


def referenced(items: Iterable[_Item], key: str, field: str, what: str) -> _Item:
    """The item a body member names by id, or a 400 naming that member."""
    item = next((i for i in items if i.id == key), None)
    if item is None:
        raise invalid(field, f"{field} names no {what}: {key}.", value=key)
    return item


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is an empty object)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid("body", "the body is not JSON.") from None
    if not isinstance(body, dict):
        raise invalid("body", "the body must be a JSON object.")
    return body
