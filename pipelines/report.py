"""What the commands print: the summary after a load, `status`, and the demo's headlines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dlt

from armature_source.tables import ALL_TABLES
from pipelines.duckdb_file import duckdb_path
from pipelines.legacy_duckdb import move_statements, named_like_its_file
from pipelines.settings import DEFAULT_DATASET, EXIT_OK

if TYPE_CHECKING:
    from pipelines.loading import Outcome


def after_load(pipeline: dlt.Pipeline, outcome: "Outcome") -> None:
    """One line per table that received rows, then the views made."""
    total = sum(outcome.rows.values())
    print(f"Loaded {total} new or changed rows into {pipeline.dataset_name} "
          f"({_where(pipeline)}), load {', '.join(outcome.load_ids) or 'none'}.")
    for name, n in sorted(outcome.rows.items()):
        print(f"  {name:<26} {n:>9}")
    if outcome.views:
        print(f"Reporting views created or replaced: {', '.join(outcome.views)}.")


def _where(pipeline: dlt.Pipeline) -> str:
    destination = pipeline.destination.destination_name if pipeline.destination else "?"
    if destination == "duckdb":
        try:
            with pipeline.sql_client() as client:
                path = client.credentials.database  # type: ignore[attr-defined]
            return f"duckdb file {path}"
        except Exception:
            return "duckdb"
    return destination


def table_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Row counts of every contract table present in the destination."""
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in ALL_TABLES:
            try:
                rows = client.execute_sql(f"select count(*) from {client.make_qualified_table_name(table.name)}")
            except Exception:
                continue
            counts[table.name] = int(rows[0][0]) if rows else 0
    return counts


def status(pipeline: dlt.Pipeline) -> int:
    """Cursors, last successful load, row counts and coverage warnings."""
    state = pipeline.state.get("sources", {}).get("armature", {})
    resources = state.get("resources", {})
    print(f"pipeline {pipeline.pipeline_name}: dataset {pipeline.dataset_name} on {_where(pipeline)}")
    last = _last_load(pipeline)
    print(f"last successful load: {last or 'none yet'}")
    runs = resources.get("runs", {})
    print(f"runs cursor: newest started_at {runs.get('mark') or '-'}, "
          f"{len(runs.get('open', {}))} open runs to re-check")
    sessions = resources.get("sessions", {})
    print(f"sessions cursor: last read at {sessions.get('mark') or '-'}, "
          f"{len(sessions.get('known', {}))} recent sessions tracked")
    try:
        counts = table_counts(pipeline)
    except Exception as exc:
        print(f"row counts unavailable: {exc}")
        counts = {}
    for name, n in counts.items():
        print(f"  {name:<26} {n:>9}")
    coverage = state.get("coverage", [])
    if coverage:
        print(f"coverage warnings ({len(coverage)}, newest last):")
        for entry in coverage[-10:]:
            print(f"  {entry['detected_at']}  {entry['message']}")
    else:
        print("coverage warnings: none")
    for line in legacy_note(pipeline):
        print(line)
    return EXIT_OK


def legacy_note(pipeline: dlt.Pipeline) -> list[str]:
    """For a DuckDB dataset named like its file (the old default): how to move it."""
    path = duckdb_path(pipeline)
    if path is None or not named_like_its_file(path, pipeline.dataset_name):
        return []
    try:
        with pipeline.sql_client() as client:
            found = client.execute_sql(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = %s", pipeline.dataset_name) or []
        tables = sorted(r[0] for r in found if r[1] == "BASE TABLE")
        views = sorted(r[0] for r in found if r[1] == "VIEW")
    except Exception:
        return []
    catalog = Path(path).stem
    statements = move_statements(catalog, pipeline.dataset_name, DEFAULT_DATASET, tables, views)
    return [
        f"note: dataset {pipeline.dataset_name!r} shares its name with the DuckDB file "
        f"{Path(path).name} (the old default), so readers must write "
        f"{catalog}.{pipeline.dataset_name}.<table>. To move it to {DEFAULT_DATASET!r}, the "
        "default now, stop the scheduled loads, run these statements on the file with "
        f"`armature-pipeline sql --duckdb {Path(path).name} --write` (they are read from "
        "standard input), then load without --dataset:",
        *(f"  {statement}" for statement in statements),
    ]


def _last_load(pipeline: dlt.Pipeline) -> str | None:
    try:
        with pipeline.sql_client() as client:
            rows = client.execute_sql(
                f"select max(inserted_at) from {client.make_qualified_table_name('_dlt_loads')} "
                "where status = 0"
            )
    except Exception:
        return None
    return str(rows[0][0]) if rows and rows[0][0] else None


HEADLINES = {
    # Armature leaves error runs (and timed_out, which never reached the judge) out of pass rate.
    "pass rate, % of judged runs": """
        select round(100.0 * count(*) filter (where status = 'pass')
               / nullif(count(*) filter (where status in ('pass', 'partial', 'fail')), 0), 1)
        from {runs}""",
    "busiest tool": """
        select tool_name || ' (' || count(*) || ' calls)' from {tool_calls}
        group by tool_name order by count(*) desc limit 1""",
    "top topic": """
        select label || ' (' || session_count || ' sessions, ' || counts_range || ')' from {topics}
        order by session_count desc limit 1""",
}


def demo_summary(pipeline: dlt.Pipeline) -> None:
    """Headline numbers and where to look next."""
    print()
    with pipeline.sql_client() as client:
        names = {t.name: client.make_qualified_table_name(t.name) for t in ALL_TABLES}
        for label, sql in HEADLINES.items():
            try:
                rows = client.execute_sql(sql.format(**names))
                value = rows[0][0] if rows else None
            except Exception:
                value = None
            print(f"{label}: {value if value is not None else '-'}")
    print()
    dataset = pipeline.dataset_name
    print(f"The data is in {_where(pipeline)}, dataset '{dataset}'. Next:")
    print(f"  duckdb {pipeline.pipeline_name}.duckdb -c \"use {dataset}; "
          "select status, count(*) from runs group by 1\"")
    print(f"  .venv/bin/armature-pipeline status --pipeline-name {pipeline.pipeline_name}")
    print("  docs/analysts.md: how to open the data, the tables and the reporting views;")
    print("  notebooks/: workflow health and MCP usage insights.")
