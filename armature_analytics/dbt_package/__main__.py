"""`python -m armature_analytics.dbt_package [--check]`: write the dbt package's generated files.

With `--check`, write nothing: exit 1 naming each file that is stale or missing (a test runs it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from armature_analytics.dbt_package import PACKAGE_DIR
from armature_analytics.dbt_package.generate import stale, write


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m armature_analytics.dbt_package", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated file is stale")
    args = parser.parse_args(argv)
    if args.check:
        found = stale()
        for path in found:
            print(f"stale: {PACKAGE_DIR.name}/{path}", file=sys.stderr)
        if found:
            print("run `python -m armature_analytics.dbt_package` to write them again", file=sys.stderr)
        return 1 if found else 0
    for path in write():
        print(f"wrote {PACKAGE_DIR.name}/{path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
