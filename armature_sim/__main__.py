"""The `armature-sim` command: serve a seeded Armature API simulator on a local port."""

from __future__ import annotations

from armature_sim.command_line import parse_args
from armature_sim.server import serve


def main(argv: list[str] | None = None) -> None:
    """Run `armature-sim`."""
    invocation = parse_args(argv, description=__doc__)
    serve(invocation.options, host=invocation.host, port=invocation.port)


if __name__ == "__main__":
    main()
