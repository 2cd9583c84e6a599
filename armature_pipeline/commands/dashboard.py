"""`armature-pipeline dashboard`: serve the reporting dashboard, or export it as one HTML file.

Reads the warehouse's read copy (`warehouse.read_copy`), never the file a load writes, so the
scheduled load is never blocked; each refresh opens the copy as last published.
"""

from __future__ import annotations

import argparse
import sys

from armature_analytics.reader import ReadError, WarehouseBusy, WarehouseNotFound, connect
from armature_pipeline.commands.flags import reading
from armature_pipeline.settings import EXIT_FAILED, EXIT_OK, UsageError
from armature_pipeline.warehouse.read_copy import for_a_reader

EXTRA = "pip install 'armature-dlt[dashboard]' (or, in a checkout, pip install -e '.[dashboard]')"


def main(args: argparse.Namespace) -> int:
    warehouse, dataset = reading(args)
    database, note = for_a_reader(warehouse)
    if note:
        print(note, file=sys.stderr)
    try:
        con = connect(database, dataset)
    except WarehouseBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except WarehouseNotFound as exc:
        raise UsageError(str(exc)) from None
    except ReadError as exc:
        raise UsageError(str(exc)) from None
    try:
        from armature_analytics.dashboard import content, export, server
    except ImportError as exc:
        con.close()
        raise UsageError(f"the dashboard needs its extra ({exc.name} is missing): {EXTRA}") from None
    if args.export:
        with con:
            written = export.write(content.build(con), args.export)
        read = f", read from its copy {database}" if database != warehouse else ""
        print(f"Wrote the dashboard of {warehouse} ({dataset}{read}) to {written}: one file, no "
              "scripts, opens offline.")
        return EXIT_OK
    con.close()
    server.serve(database, dataset, args.host, args.port, _announce)
    return EXIT_OK


def _announce(url: str) -> None:
    print(f"Dashboard at {url} (read-only; each visit or refresh reads the newest read copy). "
          "Ctrl-C stops it.", flush=True)
