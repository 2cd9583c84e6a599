"""A BI tool's reader, as Superset and its kin hold one: SQLAlchemy with duckdb-engine and a
connection pool, kept open on the read copy for as long as the process lives (tests only).

    python -m tests.support.bi_reader <copy.duckdb> <dataset> <pool_recycle_s>

Each line on standard input asks for one answer on standard output, one JSON object: the row
count of each table named in `TABLES` and the newest load, read through the pool (the
connection is checked out, used and given back, never closed by us: only the pool's recycling
closes it). The pool holds one connection, so a recycled one is the process's last to the copy
and DuckDB opens the new copy for the next.
"""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa

TABLES = ("runs", "trace_spans", "tool_calls", "evaluations", "sessions", "session_events")


def answer(engine: sa.Engine, dataset: str) -> dict[str, object]:
    with engine.connect() as con:
        counts = {t: con.execute(sa.text(f'select count(*) from "{dataset}"."{t}"')).scalar_one() for t in TABLES}
        newest = con.execute(sa.text(f'select max(load_id) from "{dataset}"._dlt_loads where status = 0')).scalar_one()
    return {"counts": counts, "newest_load": newest}


def main(copy: str, dataset: str, recycle_s: float) -> None:
    engine = sa.create_engine(f"duckdb:///{copy}", connect_args={"read_only": True},
                              pool_size=1, max_overflow=0, pool_recycle=recycle_s)
    for _ in sys.stdin:
        print(json.dumps(answer(engine, dataset)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
