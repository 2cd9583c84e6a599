"""`armature-sim`'s flags: every option has one, `--help` shows them with their defaults, and
`spawn` passes any option through them unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, fields
from datetime import UTC, datetime

import pytest

from armature_sim.command_line import flags, parse_args
from armature_sim.server import RunningSim
from armature_sim.vocabulary import SimOptions

NEW_FLAGS = ("--clock-speed", "--rate-limit-rps", "--rate-limit-burst", "--date-offset-s",
             "--children-delay-minutes", "--children-missing-run-ids", "--poison")
CHANGED = SimOptions(
    seed=3, runs=10, days=5, sessions=12, now=datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC), dialect="alt",
    insights=False, latency_ms=7, date_offset_s=-90, clock_speed=2.5, rate_limit_rps=0.5, rate_limit_burst=4,
    children_delay_minutes=12.5, children_missing_run_ids=("a", "b"),
    poison=({"kind": "nul", "record": "run", "nth": 1},),
)


def sim_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "armature_sim", *args], capture_output=True, text=True, timeout=60)


def test_help_shows_every_flag_with_its_default() -> None:
    done = sim_command("--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for flag in NEW_FLAGS:
        assert flag in text
    assert "(default 0: frozen)" in text and "(default 0: no limit)" in text


def test_every_option_differs_from_its_default_in_the_example() -> None:
    assert all(getattr(CHANGED, f.name) != getattr(SimOptions(), f.name) for f in fields(SimOptions))


def test_flags_read_back_as_the_same_options() -> None:
    assert parse_args(flags(CHANGED)).options == CHANGED
    assert parse_args(flags(SimOptions())).options == SimOptions()
    assert parse_args([]).options == SimOptions()


@pytest.mark.parametrize("args", [
    ["--poison", "not json"], ["--poison", '{"kind": "nul"}'], ["--clock-speed", "-1"], ["--rate-limit-rps", "-2"],
])
def test_a_bad_flag_exits_2(args: list[str]) -> None:
    done = sim_command("--port", "0", *args)
    assert done.returncode == 2
    assert "armature-sim" in done.stderr


def test_a_poison_rule_that_names_nothing_exits_2_naming_it() -> None:
    rule = json.dumps([{"kind": "nul", "record": "run", "nth": 99_999}])
    done = sim_command("--port", "0", "--runs", "10", "--sessions", "10", "--poison", rule)
    assert done.returncode == 2
    assert "rule 1" in done.stderr and "nth" in done.stderr


def test_reset_answers_with_every_option_it_built_from(sim: RunningSim) -> None:
    options = sim.control.reset(clock_speed=0, date_offset_s=-5, children_missing_run_ids=["x"])["options"]
    assert set(options) == set(asdict(SimOptions()))
    assert (options["date_offset_s"], options["children_missing_run_ids"]) == (-5, ["x"])
