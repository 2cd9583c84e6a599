"""Run the simulation tester from the command line:

    python -m tests.simulation --histories 500 --seed 1 [--destination postgres]

plays the histories of seeds S, S+1, ... S+N-1, each on a fresh world of its own simulator
(and another organization's) and a fresh warehouse (a DuckDB file, or a new database of a
throwaway Postgres server started for the run), prints each failing one shrunk, and ends with
how many ran, how many were clean and how long it took. Exit 0 when every history was clean,
1 otherwise (2 when there is no Postgres to start)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from armature_sim.server import spawn
from tests.simulation.destinations import NAMES, Place, place
from tests.simulation.harness import WORLD
from tests.simulation.history import SHRINK_BUDGET_S, check_seed
from tests.support.postgres import PostgresServer, find_bin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--histories", type=int, default=20, help="how many histories to play (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="the first history's seed (default 1)")
    parser.add_argument("--shrink-seconds", type=float, default=SHRINK_BUDGET_S,
                        help="how long to shrink a failing history (default %(default)s)")
    parser.add_argument("--destination", choices=NAMES, default="duckdb",
                        help="where the histories load (default duckdb)")
    parser.add_argument("--quiet", action="store_true", help="print only failures and the summary")
    parser.add_argument("--verbose", action="store_true", help="print what each clean history ran too")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)  # so the simulators it started are stopped with it
    started = time.monotonic()
    clean = 0
    if args.destination == "postgres" and find_bin() is None:
        print("no Postgres server binaries (initdb, pg_ctl): install postgresql or set ARMATURE_PG_BIN",
              file=sys.stderr)
        return 2
    run = 0
    try:
        with spawn(**WORLD) as ours, spawn(seed=99, runs=30, sessions=20) as theirs, \
                destination(args.destination) as where:
            for seed in range(args.seed, args.seed + args.histories):
                played, failure = check_seed(seed, ours, theirs, args.shrink_seconds, where)
                run += 1
                if failure is None:
                    clean += 1
                    if not args.quiet:
                        print(f"seed {seed}: clean, {len(played.steps)} steps in {played.seconds:.1f} s",
                              flush=True)
                    if args.verbose:
                        print("\n".join(f"  {line}" for line in played.log), flush=True)
                else:
                    print(failure, flush=True)
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C: the histories that ended still count
        print(f"stopped during the history of seed {args.seed + run}", flush=True)
    elapsed = time.monotonic() - started
    print(f"{run} histories run, {clean} clean, {run - clean} failed, "
          f"elapsed {elapsed:.0f} s", flush=True)
    return 0 if clean == run == args.histories else 1


@contextmanager
def destination(name: str) -> Iterator[Place]:
    """Where each history loads; for Postgres, a server started here and stopped at the end."""
    if name != "postgres":
        yield place(name)
        return
    bindir = find_bin()
    assert bindir is not None
    server = PostgresServer.start(bindir)
    try:
        yield place(name, server)
    finally:
        server.stop()


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
