"""What the commands report: the summary after a load, the demo's headlines and next steps,
and the note on a dataset named like its DuckDB file. (`status` is armature_pipeline/status/.)"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import dlt

from armature_pipeline.output import logs
from armature_pipeline.settings import DEFAULT_DATASET
from armature_pipeline.transform.report import report as dbt_report
from armature_pipeline.warehouse.duckdb_file import duckdb_path
from armature_source import tables as t
from armature_source.source import HEALTH_TABLES

if TYPE_CHECKING:
    from armature_pipeline.load.outcome import Outcome

log = logging.getLogger("armature_pipeline")
HEALTH = {table.name for table in HEALTH_TABLES}
REPO = Path(__file__).resolve().parents[2]


def after_load(pipeline: dlt.Pipeline, outcome: "Outcome") -> None:
    """After a successful load, a line per table that received rows, the views made, then the
    one line --quiet keeps: what loaded, coverage gaps and rejected records found, how long."""
    if not outcome.ok:
        return
    seconds = outcome.seconds
    data = {n: c for n, c in sorted(outcome.rows.items()) if n not in HEALTH and c}
    gaps, rejected = outcome.rows.get(t.COVERAGE.name, 0), outcome.rows.get(t.REJECTED.name, 0)
    for name, n in data.items():
        logs.report(log, "  %-26s %9d", name, n, table=name, rows=n)
    if outcome.views:
        logs.report(log, "reporting views created or replaced: %s", ", ".join(outcome.views),
                    views=outcome.views)
    if outcome.dbt is not None:
        dbt_report(outcome.dbt)
    total = sum(data.values())
    tables = ", ".join(f"{n} {c}" for n, c in data.items()) or "nothing new"
    where = _where(pipeline)
    logs.report(
        log, "%s: loaded %d new or changed rows into %s (%s) in %.1f s: %s; %d coverage gap%s, "
        "%d rejected record%s; load %s", pipeline.pipeline_name, total, pipeline.dataset_name,
        where, seconds, tables, gaps, "" if gaps == 1 else "s", rejected,
        "" if rejected == 1 else "s", ", ".join(outcome.load_ids) or "none",
        final=True, pipeline=pipeline.pipeline_name, dataset=pipeline.dataset_name,
        destination=where, rows=total, tables=data, coverage_gaps=gaps, rejected=rejected,
        seconds=round(seconds, 3), load_ids=outcome.load_ids)


def _where(pipeline: dlt.Pipeline) -> str:
    destination = pipeline.destination.destination_name if pipeline.destination else "?"
    if destination == "duckdb":
        path = duckdb_path(pipeline)
        return f"duckdb file {path}" if path else "duckdb"
    return destination


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
    """Headline numbers and where to look next: commands that work as printed, run from
    the folder the demo ran in (a test runs each one)."""
    values = {}
    with pipeline.sql_client() as client:
        names = {table.name: client.make_qualified_table_name(table.name) for table in t.ALL_TABLES}
        for label, sql in HEADLINES.items():
            try:
                rows = client.execute_sql(sql.format(**names))
                values[label] = rows[0][0] if rows else None
            except Exception:
                values[label] = None
    where, hints = _where(pipeline), next_steps(pipeline.pipeline_name, pipeline.dataset_name)
    if not logs.interactive():
        logs.report(log, "demo loaded into %s, dataset %s", where, pipeline.dataset_name,
                    final=True, headlines=values, next=[command for _, command in hints])
        return
    print()
    for label, value in values.items():
        print(f"{label}: {value if value is not None else '-'}")
    print(f"\nThe data is in {where}, dataset '{pipeline.dataset_name}'. Next:")
    for what, command in hints:
        print(f"  {what}:\n    {command}")
    guide = REPO / "docs" / "analysts.md"
    if guide.exists():
        print(f"  {_shown(guide)} says how to open the data, and what each table and view holds.")
    sys.stdout.flush()


def next_steps(pipeline_name: str, dataset: str) -> list[tuple[str, str]]:
    """(what it does, the command) for each hint the demo prints."""
    command, file = _command(), f"{pipeline_name}.duckdb"
    query = "select status, count(*) as runs from runs group by 1 order by 2 desc"
    hints = [
        ("query it", f"{command} sql --duckdb {file} {shlex.quote(query)}"),
        ("the health of its loads", f"{command} status --pipeline-name {pipeline_name}"),
    ]
    bin_dir, repo = _shown(Path(sys.executable).parent), _shown(REPO)
    notebook = REPO / "notebooks" / "workflow_health.ipynb"
    if notebook.exists():  # a checkout, not an installed wheel
        hints.append((
            f"a notebook, run headless (first: {bin_dir}/pip install -e '{repo}[analysts]')",
            f'ARMATURE_DUCKDB="$PWD/{file}" {bin_dir}/jupyter nbconvert --to notebook --execute '
            f"{_shown(notebook)} --output-dir out/"))
    extra = (f"first: {bin_dir}/pip install -e '{repo}[dashboard]'" if notebook.exists()
             else "first: pip install 'armature-dlt[dashboard]'")
    hints.append((f"the dashboard, read-only ({extra})",
                  f"{command} dashboard --duckdb {file}"
                  + ("" if dataset == DEFAULT_DATASET else f" --dataset {dataset}")))
    return hints


def _command() -> str:
    """This command as the user can type it again from here."""
    script = Path(sys.argv[0])
    if script.name == "armature-pipeline" and script.exists():
        return str(_shown(script.absolute()))
    return f"{_shown(Path(sys.executable))} -m armature_pipeline.cli"


def _shown(path: Path) -> Path:
    """`path` relative to the current folder when it is inside it, else absolute."""
    try:
        return path.relative_to(Path(os.getcwd()))
    except ValueError:
        return path
