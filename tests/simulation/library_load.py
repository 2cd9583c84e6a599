"""One load by the library, as a user's own script does it, in a process of its own so that the
tester can bound it by a deadline:

    python -m tests.simulation.library_load <root> <pipeline name> <api url> <api key> [<postgres url>]

into the DuckDB file of the warehouse folder, or into Postgres when its URL is given.
Exit 0 when dlt's run returned, 1 with one line when it raised."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import dlt

from tests.support.warehouse import Warehouse


def main(argv: list[str]) -> int:
    root, name, api_url, api_key, *postgres = argv
    destination = dlt.destinations.postgres(postgres[0]) if postgres else None
    try:
        sim = SimpleNamespace(api_url=api_url, api_key=api_key)
        Warehouse(Path(root), name).load(sim, destination=destination)
    except Exception as exc:  # the line says why; the tester judges whether it may fail
        print(f"library load failed: {type(exc).__name__}: {str(exc)[:2000]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
