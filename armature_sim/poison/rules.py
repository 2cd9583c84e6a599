"""What a poison rule is: its kinds, the records it can aim at, and the checks a rule passes.

Each record kind names its key member and the read endpoints that serve it, with the record
type each one serves; a rule's field must be a member of one of them. The endpoints are path
templates under the API prefix: `{id}` is the record's id, `{parent}` its run's or session's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from armature_sim import records
from armature_sim.vocabulary import ADDING_KINDS, DEEP_JSON_DEPTH, POISON_KINDS, RECORD_KINDS

_RULE_KEYS = {"kind", "record", "id", "nth", "parent", "field", "depth", "whole_body", "value", "count"}
CHILD_KINDS = ("span", "tool_call", "event")  # records served only under a parent's path


class PoisonSpecError(ValueError):
    """A poison rule that cannot be used; the message names the bad member."""


@dataclass(frozen=True)
class RecordShape:
    """A kind of record: its key member, and (path template, record type) of each endpoint serving it."""

    key: str
    served: tuple[tuple[str, type], ...]

    def members(self) -> set[str]:
        """Every member some endpoint serves."""
        return {name for _, record in self.served for name in record.__annotations__}


RECORDS: dict[str, RecordShape] = {
    "run": RecordShape("id", (("/runs", records.Run), ("/runs/{id}", records.RunDetail))),
    "span": RecordShape("id", (("/runs/{parent}/trace", records.Span),)),
    "tool_call": RecordShape("id", (("/runs/{parent}/tool-calls", records.ToolCall),)),
    "evaluation": RecordShape("run_id", (("/runs/{id}/evaluation", records.Evaluation),)),
    "session": RecordShape("id", (("/insights/sessions", records.Session),)),
    "event": RecordShape("event_id", (("/insights/sessions/{parent}/trace", records.Event),)),
    "topic": RecordShape("id", (("/insights/topics", records.Topic), ("/insights/topics/{id}", records.TopicDetail))),
    "failed_search": RecordShape(
        "id", (("/insights/searches", records.FailedSearch), ("/insights/searches/{id}", records.FailedSearchDetail)),
    ),
    "mcp_server": RecordShape(
        "id", (("/mcp-servers", records.McpServer), ("/mcp-servers/{id}", records.McpServerDetail)),
    ),
    "workflow": RecordShape("id", (("/workflows", records.Workflow), ("/workflows/{id}", records.Workflow))),
}

# the member each kind spoils when the rule names none; a record kind missing here needs a field
_TEXT = {
    "run": "reason", "span": "name", "tool_call": "tool_name", "evaluation": "summary", "session": "raw_intent",
    "event": "result_preview", "topic": "label", "failed_search": "query", "mcp_server": "name", "workflow": "name",
}
_COUNT = {
    "run": "tool_call_count", "span": "duration_ms", "tool_call": "duration_ms", "session": "event_count",
    "event": "duration_ms", "topic": "session_count", "failed_search": "occurrences",
}
_STAMP = {
    "run": "started_at", "span": "started_at", "tool_call": "started_at", "session": "last_event_at",
    "event": "started_at", "topic": "last_seen_at", "failed_search": "last_seen_at", "mcp_server": "updated_at",
    "workflow": "updated_at",
}
_NUMBER = {**_COUNT, "run": "cost_usd", "topic": "error_rate"}
_OPAQUE = {"span": "attributes", "tool_call": "arguments", "event": "metadata"}
_STARTED = {kind: "started_at" for kind in ("run", "span", "tool_call", "session", "event")}
_KEYS = {kind: shape.key for kind, shape in RECORDS.items()}
DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    "lone_surrogate": _TEXT, "nul": _TEXT, "huge_int": _COUNT, "bad_timestamp": _STAMP, "zero_timestamp": _STAMP,
    "string_number": _NUMBER, "deep_json": _OPAQUE, "missing_id": _KEYS, "future_started_at": _STARTED,
    "nan": _NUMBER, "infinity": _NUMBER, "fraction": _COUNT, "camel_twin": _STARTED, "dashed_twin": _NUMBER,
    "extra_field": {kind: "priority" for kind in _TEXT}, "many_keys": {kind: "custom" for kind in _TEXT},
}


@dataclass
class PoisonRule:
    """One checked rule; `id` (and a child's `parent`) are filled in when it is put in force."""

    kind: str
    record: str
    field: str | None  # None only for a whole-body deep_json
    id: str | None = None
    nth: int | None = None
    parent: str | None = None
    depth: int = DEEP_JSON_DEPTH
    whole_body: bool = False
    value: Any = None  # extra_field: the value the added member carries
    count: int = 3000  # many_keys: how many members are added
    served: int = 0  # how many times a spoiled record went out

    def endpoints(self) -> list[str]:
        """The paths that serve the spoiled record (or field), filled in."""
        shape = RECORDS[self.record]
        return [
            template.format(id=self.id, parent=self.parent)
            for template, record in shape.served
            if self.field is None or self.kind in ADDING_KINDS or self.field in record.__annotations__
        ]

    def describe(self) -> dict[str, Any]:
        """The rule as it is in force, with where it is served and how often it was."""
        return {
            "kind": self.kind,
            "record": self.record,
            "id": self.id,
            "parent": self.parent,
            "nth": self.nth,
            "field": self.field,
            "depth": self.depth if self.kind == "deep_json" else None,
            "value": self.value if self.kind == "extra_field" else None,
            "count": self.count if self.kind == "many_keys" else None,
            "whole_body": self.whole_body,
            "endpoints": self.endpoints(),
            "served": self.served,
        }


def parse_rule(spec: Any) -> PoisonRule:
    """Check one rule from `POST /_sim/poison` (the record it names is found later).

    Raises:
        PoisonSpecError: an unknown member, kind or record kind, a field the record does
            not have, both or neither of `id` and `nth`, or a bad number.
    """
    if not isinstance(spec, dict):
        raise PoisonSpecError("a poison rule must be an object")
    if unknown := set(spec) - _RULE_KEYS:
        raise PoisonSpecError(f"unknown poison rule members: {sorted(unknown)}")
    kind, record = spec.get("kind"), spec.get("record")
    if kind not in POISON_KINDS:
        raise PoisonSpecError(f"kind must be one of {list(POISON_KINDS)}, not {kind!r}")
    if record not in RECORD_KINDS:
        raise PoisonSpecError(f"record must be one of {list(RECORD_KINDS)}, not {record!r}")
    whole_body = spec.get("whole_body", False)
    if not isinstance(whole_body, bool) or (whole_body and kind != "deep_json"):
        raise PoisonSpecError("whole_body is true or false, and only for deep_json")
    rule = PoisonRule(kind, record, None if whole_body else _field(spec, kind, record), whole_body=whole_body)
    rule.id, rule.parent = _text(spec, "id"), _text(spec, "parent")
    rule.nth, rule.depth = _whole(spec, "nth", None), _whole(spec, "depth", DEEP_JSON_DEPTH)
    rule.count = _whole(spec, "count", rule.count)
    rule.value = spec.get("value", 1)
    if (rule.id is None) == (rule.nth is None):
        raise PoisonSpecError("name the record by id or by nth (from 1), one of the two")
    if rule.parent is not None and record not in CHILD_KINDS:
        raise PoisonSpecError(f"parent is only for {', '.join(CHILD_KINDS)}")
    return rule


def _field(spec: dict[str, Any], kind: str, record: str) -> str:
    """The member to spoil: the rule's, or the kind's default for the record."""
    field = spec.get("field", DEFAULT_FIELDS[kind].get(record))
    if field is None:
        raise PoisonSpecError(f"{kind} has no default field for a {record}; name one in field")
    if kind in ADDING_KINDS:
        if field in RECORDS[record].members():
            raise PoisonSpecError(f"{kind} adds a member: {field!r} is one a {record} has already")
        return str(field)
    if field not in RECORDS[record].members():
        raise PoisonSpecError(f"a {record} has no field {field!r}")
    return str(field)


def _text(spec: dict[str, Any], name: str) -> str | None:
    """An optional non-empty string member."""
    value = spec.get(name)
    if value is not None and not (isinstance(value, str) and value):
        raise PoisonSpecError(f"{name} must be a non-empty string")
    return value


def _whole(spec: dict[str, Any], name: str, default: int | None) -> Any:
    """An optional whole number >= 1."""
    value = spec.get(name, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise PoisonSpecError(f"{name} must be a whole number >= 1")
    return value
