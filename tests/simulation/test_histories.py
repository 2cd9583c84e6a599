"""The simulation tester in the suite: a fixed set of seeds, each a history of loads by the
command and the library, faults, kills, drifting records and operator mistakes, with every
invariant checked after every step (`tests.simulation.checks`), on DuckDB, and one on Postgres.
`make chaos N=...` plays as many more as asked (`DEST=postgres` on Postgres)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from armature_sim.server import RunningSim
from tests.simulation import checks
from tests.simulation.destinations import DuckDB, place
from tests.simulation.harness import WORLD
from tests.simulation.history import Played, check_seed, shortest
from tests.simulation.steps import WEIGHTS, Step, history
from tests.support.postgres import PostgresServer
from tests.support.warehouse import DATASET, Warehouse

# chosen so that together they draw every operation at least once (see the test below)
SEEDS = (103, 455, 2474)
# on Postgres: the host down at the start, then the database down, a reader's open transaction,
# a library load and a restored copy
POSTGRES_SEED = 2211
SHRINK_S = 90.0  # a failure in the suite is shrunk briefly; `python -m tests.simulation` longer


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_a_history_keeps_every_invariant(seed: int, sim_server: RunningSim, second_org: RunningSim) -> None:
    try:
        played, failure = check_seed(seed, sim_server, second_org, SHRINK_S)
    finally:
        sim_server.control.reset()  # the start world again, with no poison or switch left on
    assert failure is None, failure


@pytest.mark.slow
@pytest.mark.postgres
def test_a_history_on_postgres_keeps_every_invariant(
    sim_server: RunningSim, second_org: RunningSim, postgres_server: PostgresServer,
) -> None:
    try:
        played, failure = check_seed(POSTGRES_SEED, sim_server, second_org, SHRINK_S,
                                     place("postgres", postgres_server))
    finally:
        sim_server.control.reset()
    assert failure is None, failure
    assert played.destination == "postgres"


def test_the_suites_seeds_draw_every_operation() -> None:
    drawn = {step.op for seed in SEEDS for step in history(seed)}
    assert drawn == {op for op, _ in WEIGHTS}, f"never drawn: {sorted({op for op, _ in WEIGHTS} - drawn)}"
    on_postgres = {step.op for step in history(POSTGRES_SEED)}
    assert {"destination_down", "reader_holds", "restore_older", "library_load"} <= on_postgres


def test_a_seed_is_a_history() -> None:
    assert [str(s) for s in history(7)] == [str(s) for s in history(7)]
    assert [str(s) for s in history(7)] != [str(s) for s in history(8)]


def test_the_checks_see_a_lost_row_a_short_run_and_a_foreign_row(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    wh.load(sim)
    truth = sim.control.truth()
    ever = {kind: set(ids) for kind, ids in checks.served(truth).items()}
    dest = DuckDB(wh)
    assert checks.lost(dest, truth, set()) == [] and checks.foreign(dest, ever) == []
    terminal = next(r["id"] for r in truth["runs"] if r["terminal"] and r["spans"])
    with duckdb.connect(str(wh.db_path)) as con:
        con.execute(f"set schema '{DATASET}'")
        gone = con.execute("select id from runs where id <> ? limit 1", [terminal]).fetchone()[0]  # type: ignore[index]
        con.execute("delete from runs where id = ?", [gone])
        con.execute("delete from trace_spans where run_id = ? and id = (select min(id) from trace_spans "
                    "where run_id = ?)", [terminal, terminal])
        con.execute("update sessions set id = 'ses_not_served' where id = (select min(id) from sessions)")
    found = "\n".join(checks.lost(dest, truth, set()) + checks.foreign(dest, ever))
    assert gone in found and terminal in found and "ses_not_served" in found, found


def test_status_is_judged_both_ways() -> None:
    assert checks.status_problems(0, "", command_failed=True, library_failed=False)
    assert checks.status_problems(1, "", command_failed=False, library_failed=False)
    assert checks.status_problems(None, "", command_failed=False, library_failed=False)
    assert not checks.status_problems(1, "", command_failed=True, library_failed=False)
    assert not checks.status_problems(1, "", command_failed=False, library_failed=True)


def test_a_failing_history_shrinks_to_the_steps_that_make_it_fail() -> None:
    steps = [Step(op) for op in ("load", "advance", "kill", "poison", "lose_folder", "switch_org", "load")]
    culprits = {"kill", "switch_org"}  # a made-up defect: it shows when both steps were played

    def replay(tried: list[Step]) -> Played:
        failing = culprits <= {s.op for s in tried}
        return Played(tried, ["a violation"] if failing else [])

    shrunk = shortest(Played(steps, ["a violation"]), replay, budget_s=60)
    assert [s.op for s in shrunk.steps] == ["kill", "switch_org"]
