"""The `armature-sim` command: serve a seeded Armature API simulator on a local port."""

from __future__ import annotations

import sys

from armature_sim.command_line import parse_args
from armature_sim.poison import PoisonSpecError
from armature_sim.server import serve


def main(argv: list[str] | None = None) -> None:
    """Run `armature-sim`; a poison rule that names nothing in the world exits 2."""
    invocation = parse_args(argv, description=__doc__)
    try:
        serve(invocation.options, host=invocation.host, port=invocation.port)
    except PoisonSpecError as exc:
        print(f"armature-sim: --poison: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
