"""A bare dlt pipeline with nothing to load: the floor of a no-change run (startup_cases.py).

    python bench/bare_pipeline.py FOLDER '[["runs", "merge"], ...]'

One dlt source of resources with the armature source's names and write dispositions, each
yielding nothing, run into DuckDB at FOLDER/warehouse.duckdb with its state under FOLDER:
dlt's own cost of a run (imports, state, extract, normalize, load) when no data comes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

import dlt


def nothing() -> Iterator[Any]:
    yield from ()


def main(folder: Path, resources: list[tuple[str, str]]) -> None:
    @dlt.source(name="armature", max_table_nesting=0)
    def bare() -> Any:
        return [dlt.resource(nothing, name=name, write_disposition=disposition)  # type: ignore[call-overload]
                for name, disposition in resources]

    pipeline = dlt.pipeline(pipeline_name="bare", destination=dlt.destinations.duckdb(str(folder / "warehouse.duckdb")),
                            dataset_name="armature_data", pipelines_dir=str(folder / "pipelines"))
    pipeline.run(bare())


if __name__ == "__main__":
    main(Path(sys.argv[1]), [tuple(pair) for pair in json.loads(sys.argv[2])])
