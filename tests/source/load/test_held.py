"""Rows held for dlt in few, large Arrow tables: a load hands dlt one item per table a flush,
and a state change is made only once the rows it speaks of were yielded, even when dlt closes
the generator in the middle of a flush."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from armature_source import tables as t
from armature_source.load.held import Held
from tests.support.runs_world import RUN_TABLES, WORLD, loaded_whole, runs_only
from tests.support.warehouse import Warehouse


def _arrow(rows: int) -> pa.Table:
    return pa.table({"id": [str(i) for i in range(rows)]})


def test_a_change_waits_for_the_rows_held_before_it_and_runs_at_once_when_none_are() -> None:
    held = Held(limit_bytes=1 << 20)
    made: list[str] = []
    held.after(lambda: made.append("nothing held"))
    assert made == ["nothing held"]
    held.add(t.RUNS, _arrow(3))
    held.add(t.TOOL_CALLS, _arrow(2))
    held.add(t.RUNS, _arrow(4))
    held.after(lambda: made.append("first batch"))
    held.add(t.RUNS, pa.table({"id": pa.array([], pa.string())}))  # an empty table holds nothing
    assert not held.full and made == ["nothing held"]
    tables, changes = held.take()
    assert [(table.name, arrow.num_rows) for table, arrow in tables] == [("runs", 7), ("tool_calls", 2)]
    assert made == ["nothing held"] and len(changes) == 1  # the caller makes them after yielding
    held.after(lambda: made.append("after the take"))
    assert made == ["nothing held", "after the take"]
    held.add(t.RUNS, _arrow(300_000))
    assert held.full



def test_a_backfill_hands_dlt_one_arrow_table_per_table_not_one_per_page(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    truth = sim.control.truth()
    pages = -(-len(truth["runs"]) // 100)
    items: dict[str, list[int]] = {}

    def count(item: Any) -> Any:
        if isinstance(item, pa.Table):
            name = dlt.current.resource().name
            items.setdefault(name, []).append(item.num_rows)
        return item

    wh = Warehouse(tmp_path / "wh")
    source = runs_only(sim)
    source.resources["runs"].add_map(count)
    wh.pipeline().run(source)
    counts = wh.pipeline().last_trace.last_normalize_info.row_counts
    assert pages >= 3
    assert counts["runs"] == len(truth["runs"])
    arrow_items = sum(len(rows) for rows in items.values())
    # before: one item per page for each of the five tables; now one per table, and the ledger's
    assert arrow_items <= len(RUN_TABLES) + 3, items
    assert sum(sum(rows) for rows in items.values()) >= sum(counts.get(table, 0) for table in RUN_TABLES)


def test_a_load_that_dlt_closes_in_the_middle_of_a_flush_records_none_of_it_and_the_next_completes_it(
    sim: Any, tmp_path: Path,
) -> None:
    full = loaded_whole(sim, tmp_path / "full")
    cut = Warehouse(tmp_path / "cut")
    source = runs_only(sim)
    DltResource.add_limit(source.resources["runs"], max_items=2)  # dlt's own: closes at the 2nd item
    cut.pipeline().run(source)
    state = cut.pipeline().state["sources"]["armature"]["resources"]["runs"]
    assert not state.get("done") and not state.get("mark"), "state recorded rows never yielded"
    cut.pipeline().run(runs_only(sim))
    for table in RUN_TABLES:
        assert cut.content(table) == full.content(table), table
