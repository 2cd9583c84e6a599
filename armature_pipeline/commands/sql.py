"""`armature-pipeline sql`: SQL on the DuckDB warehouse, from the command line.

No `duckdb` command ships with the Python package, and the one on the package index cannot
read files written by DuckDB 2.0; this one uses the DuckDB the pipeline writes with. It reads
the warehouse's read copy (`warehouse.read_copy`), never the file a load writes; `--write` runs
statements on the warehouse itself (one script, in one transaction), e.g. to move a dataset;
the read copy shows them after the next load that changes something.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

from armature_pipeline.commands.flags import reading
from armature_pipeline.settings import DEFAULT_PIPELINE, EXIT_FAILED, EXIT_OK, UsageError
from armature_pipeline.warehouse.read_copy import for_a_reader


def main(args: argparse.Namespace) -> int:
    """Print the result of the query, or run the script with --write."""
    warehouse, dataset = reading(args)
    path, note = (warehouse, None) if args.write else for_a_reader(warehouse)
    if not path.exists():
        raise UsageError(f"no DuckDB file at {warehouse}; pass --duckdb PATH (a load writes "
                         f"{DEFAULT_PIPELINE}.duckdb in the folder it runs in).")
    text = args.query if args.query is not None else sys.stdin.read()
    if not text.strip():
        raise UsageError("no SQL given: pass it as an argument or on standard input.")
    if note:
        print(note, file=sys.stderr)
    try:
        with duckdb.connect(str(path), read_only=not args.write) as con:
            schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
            if dataset in schemas:
                con.execute(f"set search_path = '\"{dataset}\",main'")
            if args.write:
                con.execute("begin")
                con.execute(text)
                con.execute("commit")
                print(f"done: the statements ran on {path}.")
            else:
                result = con.sql(text)
                if result is not None:
                    _drawable(sys.stdout)
                    result.show(max_rows=200, max_width=200)
    except duckdb.Error as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _drawable(stream: object) -> None:
    """A stdout that cannot encode DuckDB's box-drawing characters (an ASCII locale, a pipe in
    a minimal container) shows `?` for them instead of failing."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "│─┌".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
