"""The invariants, checked against the simulator's ground truth after every step. Each check
returns the violations it found, one sentence each; none is an exception, so a history can
print them all with its seed.

- nothing silently lost: after a load that exited 0, every record the host serves in the
  windows that load read is in the warehouse, or a `coverage_gaps` / `rejected_records` row
  names it;
- nothing foreign: no row names a record the host never served for this organization;
- honest status (`status_problems`): `status` exits 0 only when the last load by the command
  succeeded, and is unhealthy after a failed one until a load succeeds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.simulation.destinations import TABLES_SQL, Destination, Query
from tests.support.expectations import RANGES
from tests.support.warehouse import DATASET

# table -> the id column whose values must be ones the host served, and the truth they come from
SERVED_IDS = {
    "organization": ("id", "organization"), "mcp_servers": ("id", "mcp_servers"),
    "workflows": ("id", "workflows"), "runs": ("id", "runs"), "trace_spans": ("run_id", "runs"),
    "tool_calls": ("run_id", "runs"), "evaluations": ("run_id", "runs"), "sessions": ("id", "sessions"),
    "session_events": ("session_id", "sessions"), "topics": ("id", "topics"),
    "failed_searches": ("id", "failed_searches"),
}


def served(truth: dict[str, Any]) -> dict[str, set[str]]:
    """Every id the host serves now, by kind (kept across a history: what it ever served)."""
    return {
        "organization": {truth["organization"]["id"]},
        "mcp_servers": set(truth["mcp_servers"]),
        "workflows": {w["id"] for w in truth["workflow_records"]},
        "runs": {r["id"] for r in truth["runs"]},
        "sessions": {s["id"] for s in truth["sessions"]},
        "topics": {t["id"] for t in truth["topics"]},
        "failed_searches": set().union(*truth["failed_searches_listed"].values()),
    }


class Reader:
    """The dataset, read once per check (read-only, so a check never holds it for long), in SQL
    that DuckDB and Postgres both take."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self.tables = {r[0] for r in query(TABLES_SQL)}

    def rows(self, sql: str, table: str) -> list[tuple[Any, ...]]:
        """The rows of `sql` over `table`; none when the table is not there."""
        if table not in self.tables:
            return []
        return self.query(sql.replace("{t}", f"{DATASET}.{table}"))

    def ids(self, table: str, column: str = "id") -> set[str]:
        return {r[0] for r in self.rows(f"select distinct {column} from {{t}} where {column} is not null", table)}

    def per(self, table: str, column: str) -> dict[str, int]:
        return dict(self.rows(f"select {column}, count(*) from {{t}} group by 1", table))

    def named(self) -> dict[str, str]:
        """By table: the text of every rejected_records row (key, reason and raw record)."""
        text: dict[str, list[str]] = defaultdict(list)
        for table, key, reason, raw in self.rows(
                "select table_name, record_key, reason, raw from {t}", "rejected_records"):
            text[table].append(f"{key}\n{reason}\n{raw}")
        return {table: "\n".join(parts) for table, parts in text.items()}

    def gaps(self) -> list[tuple[str, str, str, str]]:
        return self.rows("select resource, kind, range, coalesce(message, '') from {t}", "coverage_gaps")


@contextmanager
def reading(dest: Destination) -> Iterator[Reader]:
    with dest.connect() as query:
        yield Reader(query)


def foreign(dest: Destination, ever: dict[str, set[str]]) -> list[str]:
    """Rows that name a record the host never served for this organization."""
    if not dest.exists():
        return []
    found = []
    with reading(dest) as db:
        for table, (column, kind) in SERVED_IDS.items():
            strangers = db.ids(table, column) - ever[kind]
            if strangers:
                found.append(f"nothing foreign: {table}.{column} holds {len(strangers)} value(s) the host "
                             f"never served for this organization, e.g. {sorted(strangers)[:3]}")
    return found


def lost(dest: Destination, truth: dict[str, Any], no_key: set[tuple[str, str]]) -> list[str]:
    """After a load that exited 0: what the host serves in the windows read and the warehouse
    neither holds nor names in coverage_gaps / rejected_records. `no_key` holds (table, id) of
    records served without their key (a `no key` rejection names them by digest only)."""
    if not dest.exists():
        return [f"nothing lost: the load exited 0 but there is no warehouse ({dest.name}) to read"]
    with reading(dest) as db:
        named, gaps = db.named(), db.gaps()

        def accounted(table: str, ident: str) -> bool:
            if ident in named.get(table, ""):
                return True
            if (table, ident) in no_key and "no key" in named.get(table, ""):
                return True
            return any(ident in message for *_, message in gaps)

        out: list[str] = []

        def expect(table: str, want: set[str], column: str = "id") -> None:
            missing = sorted(i for i in want - db.ids(table, column) if not accounted(table, i))
            if missing:
                out.append(f"nothing lost: {len(missing)} of {len(want)} {table} the host serves are "
                           f"neither loaded nor named in coverage_gaps/rejected_records, e.g. {missing[:3]}")

        expect("organization", {truth["organization"]["id"]})
        expect("mcp_servers", set(truth["mcp_servers"]))
        expect("workflows", set(truth["workflows"]))
        expect("runs", {r["id"] for r in truth["runs"]})
        # a run's evaluation, like its spans and tool calls, is read by the run's id: a run named
        # in rejected_records (served without its key) has no children the loader could ask for
        expect("evaluations", {r["id"] for r in truth["runs"] if r["has_evaluation"] and r["children_available"]
                               and not accounted("runs", r["id"])}, "run_id")
        for table, count in (("trace_spans", "spans"), ("tool_calls", "tool_calls")):
            have = db.per(table, "run_id")
            short = sorted(r["id"] for r in truth["runs"] if r["terminal"] and r["children_available"]
                           and have.get(r["id"], 0) < r[count] and not accounted(table, r["id"])
                           and not accounted("runs", r["id"]))
            if short:
                out.append(f"nothing lost: {table} of {len(short)} terminal runs are short of what the host "
                           f"serves, unnamed in coverage_gaps/rejected_records, e.g. {short[:3]}")
        for kind in ("topics", "failed_searches"):
            expect(kind, set().union(*(truth[f"{kind}_listed"][r] for r in RANGES)))
        out += _sessions(db, truth, accounted)
        return out


def _sessions(db: Reader, truth: dict[str, Any], accounted: Any) -> list[str]:
    """The sessions the last load's window listed, each with every event the host serves."""
    read = db.rows("select window_range from {t} where resource = 'sessions' "
                   "order by load_id desc limit 1", "load_ledger")
    if not read or read[0][0] not in RANGES:
        return []
    listed = set(truth["sessions_listed"][read[0][0]])
    events = {s["id"]: s["event_count"] for s in truth["sessions"]}
    have, loaded = db.per("session_events", "session_id"), db.ids("sessions")
    out = []
    missing = sorted(i for i in listed - loaded if not accounted("sessions", i))
    if missing:
        out.append(f"nothing lost: {len(missing)} of the {len(listed)} sessions the host lists in "
                   f"{read[0][0]} are neither loaded nor named, e.g. {missing[:3]}")
    short = sorted(i for i in listed & loaded if have.get(i, 0) < events[i]
                   and not accounted("session_events", i) and not accounted("sessions", i))
    if short:
        out.append(f"nothing lost: session_events of {len(short)} listed sessions are short of what the "
                   f"host serves, e.g. {[(i, have.get(i, 0), events[i]) for i in short[:3]]}")
    return out


def status_problems(code: int | None, output: str, command_failed: bool, library_failed: bool) -> list[str]:
    """`status` is honest about the last load by the command."""
    if code is None:
        return [f"no hang: status did not end within its deadline\n{output}"]
    if command_failed and code == 0:
        return [f"honest status: the last run failed, yet status exits 0\n{output}"]
    if not command_failed and not library_failed and code != 0:
        return [f"honest status: the last run succeeded and nothing failed since, yet status exits "
                f"{code}\n{output}"]
    return []
