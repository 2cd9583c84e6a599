"""Serving poison: the rules in force, and the bytes of a body that carries a spoiled record.

A handler names the kind of record its body carries; when a rule aims at that kind, the
records it names are copied and spoiled (never the world's own, which caches some), the body
is encoded by the dialect, and what json cannot write is spliced into the text:

    lone_surrogate   "Sched\\ud800uled run"     the 6-character escape, unpaired
    nul              "Sched\\u0000uled run"     json writes NUL as this escape itself
    huge_int         123456789012345678901234567890   a bare number beyond 64 bits
    deep_json        {"deep":{"deep":…{}…}}     `depth` objects, too deep for json to write
    deep_json, whole_body   [[[…{the body}…]]]  the whole answer nested `depth` arrays deeper

    nan, infinity    "cost_usd": NaN         bare, as Python's own json.dumps writes them
    camel_twin       "startedAt" beside "started_at", another instant: two keys, one column
    dashed_twin      "Cost-Usd" beside "cost_usd", another number
    extra_field      "priority": <value>     a member the record does not declare
    many_keys        "custom_1": 1, ... "custom_<count>": <count>    thousands of such members

The other kinds are plain values: "not-a-date", "0000-00-00T00:00:00Z", "twelve cents", 3.5 in
a count (fraction), the member left out (missing_id), a start in 2099 (future_started_at).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from armature_sim.http.dialect import Dialect
from armature_sim.poison.rules import RECORDS, PoisonRule, PoisonSpecError, parse_rule
from armature_sim.poison.targets import resolve
from armature_sim.vocabulary import ADDING_KINDS, DEFAULT_NOW
from armature_sim.world import World

LONE_SURROGATE = "\ud800"  # what a client reads the escape as
# stands in for the escape until the text is written: a real surrogate in the body would
# widen the whole text to two bytes a character, and could not be encoded as UTF-8
_SURROGATE_MARK = "@@armature-sim-lone-surrogate@@"
HUGE_INT = 123456789012345678901234567890
FUTURE_YEAR = 2099
_TAINTS = {"lone_surrogate": _SURROGATE_MARK, "nul": "\x00"}
BAD_VALUES: dict[str, Any] = {
    "huge_int": HUGE_INT,
    "bad_timestamp": "not-a-date",
    "zero_timestamp": "0000-00-00T00:00:00Z",
    "string_number": "twelve cents",
}


@dataclass
class _Spoiling:
    """What spoiling one body left for the encoder to do."""

    fired: bool = False
    splices: dict[str, str] = field(default_factory=dict)  # encoded sentinel -> raw JSON text
    wrap: int = 0  # arrays to nest the whole body in


class Poison:
    """The poison rules in force, indexed by record kind and id."""

    def __init__(self, rules: list[PoisonRule] | None = None) -> None:
        self.rules: list[PoisonRule] = []
        self._aimed: dict[str, dict[str, list[PoisonRule]]] = {}
        self.add(rules or [])

    @staticmethod
    def parse(world: World, specs: Any) -> list[PoisonRule]:
        """Check rules and find their records in `world` (all or nothing).

        Raises:
            PoisonSpecError: the first rule that cannot be used, named by its position.
        """
        if not isinstance(specs, list | tuple):
            raise PoisonSpecError("rules must be a list")
        rules = []
        for index, spec in enumerate(specs):
            try:
                rule = parse_rule(spec)
                resolve(world, rule)
            except PoisonSpecError as exc:
                raise PoisonSpecError(f"rule {index + 1}: {exc}") from None
            rules.append(rule)
        return rules

    def add(self, rules: list[PoisonRule]) -> None:
        """Put checked, resolved rules in force beside those already in force."""
        for rule in rules:
            assert rule.id is not None
            self.rules.append(rule)
            self._aimed.setdefault(rule.record, {}).setdefault(rule.id, []).append(rule)

    def aims_at(self, record: str) -> bool:
        """Whether some rule spoils records of this kind (the hot path asks this only)."""
        return record in self._aimed

    def describe(self) -> list[dict[str, Any]]:
        """Every rule in force, as the truth and `/_sim/poison` report it."""
        return [rule.describe() for rule in self.rules]

    def encode(self, record: str, body: Any, dialect: Dialect) -> bytes:
        """The body as `dialect` serves it, with every record of this kind a rule names spoiled."""
        spoiling = _Spoiling()
        body = self._spoiled_body(record, body, spoiling)
        if not spoiling.fired:
            return dialect.encode(body)
        text = dialect.text(body)
        for sentinel, raw in spoiling.splices.items():
            text = text.replace(sentinel, raw)
        data = text.encode()
        return b"[" * spoiling.wrap + data + b"]" * spoiling.wrap if spoiling.wrap else data

    def _spoiled_body(self, record: str, body: Any, spoiling: _Spoiling) -> Any:
        """The body with its named records spoiled: the body itself if it is one of the
        records (a detail), else the records in the lists it holds (a list page, a trace)."""
        key = RECORDS[record].key
        aimed = self._aimed[record]
        if not isinstance(body, dict):
            return body
        if key in body:
            return _spoiled_record(body, aimed.get(body[key]), spoiling)
        spoiled = dict(body)
        for name, value in body.items():
            if isinstance(value, list):
                spoiled[name] = [
                    _spoiled_record(item, aimed.get(item.get(key, "")), spoiling) if isinstance(item, dict) else item
                    for item in value
                ]
        return spoiled


def _spoiled_record(record: dict[str, Any], rules: list[PoisonRule] | None, spoiling: _Spoiling) -> dict[str, Any]:
    """A spoiled copy of the record, or the record itself when no rule names it."""
    if not rules:
        return record
    spoiled = dict(record)
    for rule in rules:
        if rule.whole_body:
            spoiling.wrap = max(spoiling.wrap, rule.depth)
        elif rule.field in spoiled or (rule.field is not None and rule.kind in ADDING_KINDS):
            _spoil(spoiled, rule, rule.field, spoiling)
        else:
            continue  # this endpoint does not serve the field
        rule.served += 1
        spoiling.fired = True
    return spoiled


def _spoil(record: dict[str, Any], rule: PoisonRule, name: str, spoiling: _Spoiling) -> None:
    """Set one member of a copied record to the rule's bad value."""
    kind = rule.kind
    if kind == "missing_id":
        del record[name]
    elif kind in _TAINTS:
        record[name] = _tainted(record[name], _TAINTS[kind])
        if kind == "lone_surrogate":
            spoiling.splices[_SURROGATE_MARK] = "\\ud800"
    elif kind == "deep_json":
        sentinel = f"@@armature-sim-deep-{rule.depth}@@"
        record[name] = sentinel
        spoiling.splices[json.dumps(sentinel)] = _deep(rule.depth)
    elif kind == "future_started_at":
        record[name] = _in_future_year(record[name])
    elif kind in ("nan", "infinity"):
        sentinel = f"@@armature-sim-{kind}@@"
        record[name] = sentinel
        spoiling.splices[json.dumps(sentinel)] = "NaN" if kind == "nan" else "Infinity"
    elif kind == "fraction":
        record[name] = 3.5
    elif kind == "camel_twin":
        head, *rest = name.split("_")
        record[head + "".join(part.title() for part in rest)] = _in_future_year(DEFAULT_NOW)
    elif kind == "dashed_twin":
        record["-".join(part.title() for part in name.split("_"))] = 123.45
    elif kind == "extra_field":
        record[name] = rule.value
    elif kind == "many_keys":
        record.update({f"{name}_{i}": i for i in range(1, rule.count + 1)})
    else:
        record[name] = BAD_VALUES[kind]


def _tainted(value: Any, char: str) -> Any:
    """The value with `char` in the middle of its first string (a new one if it has none)."""
    found, tainted = _taint_first(value, char)
    if found:
        return tainted
    if isinstance(value, dict):
        return {**value, "note": char}
    return char if value is None else f"{value}{char}"


def _taint_first(value: Any, char: str) -> tuple[bool, Any]:
    """(whether a string was found, the value with `char` inside the first one, depth first)."""
    if isinstance(value, str):
        half = len(value) // 2
        return True, value[:half] + char + value[half:]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for index, item in items:
        found, tainted = _taint_first(item, char)
        if found:
            copy = dict(value) if isinstance(value, dict) else list(value)
            copy[index] = tainted
            return True, copy
    return False, value


def _in_future_year(value: Any) -> datetime:
    """The same moment of the year in 2099 (28 February for a 29th)."""
    moment = value if isinstance(value, datetime) else DEFAULT_NOW
    try:
        return moment.replace(year=FUTURE_YEAR)
    except ValueError:
        return moment.replace(year=FUTURE_YEAR, day=28)


@lru_cache(maxsize=16)
def _deep(depth: int) -> str:
    """A JSON object nested `depth` deep: {"deep":{"deep":...{}...}}."""
    return '{"deep":' * (depth - 1) + "{}" + "}" * (depth - 1)
