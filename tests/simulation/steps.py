"""What a history is made of: the steps the tester draws, each a plain value that prints as
the call that replays it. A history is drawn from its seed alone, so a seed is a history."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from armature_sim.poison.rules import DEFAULT_FIELDS
from armature_sim.vocabulary import RECORD_KINDS

# steps that run a load by the command (they use, then clear, the faults armed before them)
COMMAND_LOADS = ("load", "kill", "terminate", "full_refresh", "reader_holds", "disk_full")
LOADS = (*COMMAND_LOADS, "library_load")
FAULT_KINDS = ("429", "500", "502", "503", "504", "cut", "bad_json", "slow")
FAULT_PATHS = ("", "/runs$", "/runs/[^/]+$", "/trace$", "/tool-calls$", "/evaluation$", "/insights/",
               "/workflows", "/mcp-servers", "/org$")
CRASH_POINTS = ("request", "normalize", "load", "publish:written", "publish:copied", "publish:durable",
                "publish:renamed")
DROPPABLE = ("organization", "workflows", "mcp_servers", "runs", "sessions", "topics")
MIN_STEPS, MAX_STEPS = 5, 8
# (operation, weight): how often each is drawn
WEIGHTS = (
    ("load", 6), ("library_load", 2), ("advance", 4), ("fault", 3), ("date_skew", 1), ("poison", 3),
    ("kill", 2), ("terminate", 2), ("down_at_start", 1), ("switch_org", 1), ("restore_older", 1),
    ("lose_folder", 1), ("full_refresh", 1), ("refresh_some", 1), ("drop_resource", 1),
    ("reader_holds", 1), ("disk_full", 1), ("library_switch_org", 1), ("late_children", 1), ("rate_limit", 1),
    ("destination_down", 1),
)


@dataclass(frozen=True)
class Step:
    """One operation and its drawn arguments."""

    op: str
    args: dict[str, Any] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.op}({inner})"


def history(seed: int) -> list[Step]:
    """The history of `seed`: 5 to 8 drawn steps, then a load with nothing hostile armed,
    which must succeed and leave everything the host serves in the warehouse."""
    rng = random.Random(seed)
    ops, weights = zip(*WEIGHTS, strict=True)
    drawn = [draw(rng, op) for op in rng.choices(ops, weights, k=rng.randint(MIN_STEPS, MAX_STEPS))]
    return [Step("load", {"first": True}), *drawn, Step("load", {"last": True})]


def draw(rng: random.Random, op: str) -> Step:
    """One step of kind `op`, its arguments drawn from `rng`."""
    if op == "advance":
        return Step(op, {"minutes": rng.choice((5, 30, 90, 360, 1500, 3000))})
    if op == "fault":
        rule: dict[str, Any] = {"kind": rng.choice(FAULT_KINDS), "path": rng.choice(FAULT_PATHS)}
        if rng.random() < 0.5:
            rule["rate"] = rng.choice((0.1, 0.3, 0.6))
        else:
            rule["nth"] = rng.randint(1, 4)
        rule["times"] = rng.choice((1, 3, 10))
        if rule["kind"] == "slow":
            rule["delay_ms"] = rng.choice((100, 400))
        if rule["kind"] == "429":
            rule["retry_after"] = rng.choice(("1", "date"))
        return Step(op, {"rule": rule})
    if op == "date_skew":
        return Step(op, {"seconds": rng.choice((-86_400, -1_200, 1_200, 3_600, 86_400 * 3))})
    if op == "poison":
        return Step(op, {"rule": _poison(rng)})
    if op == "kill":
        point = rng.choice(CRASH_POINTS)
        if point == "request":
            point = f"request:{rng.randint(1, 60)}"
        elif point == "load":
            point = f"load:{rng.randint(1, 12)}"
        return Step(op, {"at": point})
    if op == "terminate":
        return Step(op, {"after_s": round(rng.uniform(0.3, 5.0), 1),
                         "signal": rng.choice(("SIGTERM", "SIGTERM", "SIGKILL"))})
    if op == "restore_older":
        return Step(op, {"pick": round(rng.random(), 2)})
    if op == "drop_resource":
        return Step(op, {"resource": rng.choice(DROPPABLE)})
    if op == "late_children":
        return Step(op, {"minutes": rng.choice((20, 90, 600))})
    if op == "rate_limit":
        return Step(op, {"rps": rng.choice((10, 30, 0))})
    if op == "reader_holds":
        return Step(op, {"seconds": rng.choice((1, 3))})
    return Step(op)


def _poison(rng: random.Random) -> dict[str, Any]:
    """A poison rule the simulator accepts: a kind, a record kind it has a field for, an nth."""
    while True:
        kind = rng.choice(tuple(DEFAULT_FIELDS))
        record = rng.choice(RECORD_KINDS)
        if kind == "deep_json" and rng.random() < 0.3:
            return {"kind": kind, "record": rng.choice(("span", "tool_call", "event")), "nth": 1,
                    "whole_body": True}
        if DEFAULT_FIELDS[kind].get(record) is None:
            continue
        rule: dict[str, Any] = {"kind": kind, "record": record, "nth": rng.randint(1, 3)}
        if kind == "extra_field":  # a drifting type: an integer on one record, a word on another
            rule["value"] = rng.choice((3, "high", 2.5, None, [1, 2], {"a": 1}))
        if kind == "many_keys":
            rule["count"] = rng.choice((40, 3000))
        return rule
