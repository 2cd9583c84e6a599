"""A job's converted rows, held per table and handed to dlt as few, large Arrow tables.

dlt's Arrow extractor recomputes and validates a table's whole schema for every item it is
given, whatever its size (bench/NOTES.md): one item per page per table cost more than the
rows in it. So a job holds what it converts and yields it when the held tables pass
`HELD_BYTES`, and whenever a resource needs everything so far delivered.

The state a batch changes goes with its rows: `after` queues the change, and the job's flush
(`Job.flush`) makes the queued changes only after it has yielded every held row. A generator
closed early (by dlt's `max_time`, an error, a kill) drops the held rows and the changes that
spoke of them together, so the state never records rows that were not delivered.
"""

from __future__ import annotations

from typing import Callable

import pyarrow as pa

from armature_source.tables import Table

# a few pages of a large backfill; memory stays flat (bench/NOTES.md, "Fewer, larger Arrow tables")
HELD_BYTES = 16 * 1024 * 1024


class Held:
    """Arrow tables waiting to be yielded, and the state changes waiting for them."""

    def __init__(self, limit_bytes: int | None = None) -> None:
        self.limit_bytes = HELD_BYTES if limit_bytes is None else limit_bytes
        self._tables: dict[str, tuple[Table, list[pa.Table]]] = {}
        self._bytes = 0
        self._after: list[Callable[[], None]] = []

    @property
    def full(self) -> bool:
        return self._bytes >= self.limit_bytes

    def add(self, table: Table, arrow: pa.Table) -> None:
        """Hold `arrow` for `table` until the next flush."""
        if arrow.num_rows:
            self._tables.setdefault(table.name, (table, []))[1].append(arrow)
            self._bytes += arrow.nbytes

    def after(self, change: Callable[[], None]) -> None:
        """Run `change` once every row held now has been yielded (at once if none is held)."""
        if self._tables or self._after:
            self._after.append(change)
        else:
            change()

    def take(self) -> tuple[list[tuple[Table, pa.Table]], list[Callable[[], None]]]:
        """Each table's held rows as one Arrow table, and the changes to make once they
        were yielded, in order; nothing is held after."""
        tables, changes = self._tables, self._after
        self._tables, self._after, self._bytes = {}, [], 0
        return [(table, parts[0] if len(parts) == 1 else pa.concat_tables(parts))
                for table, parts in tables.values()], changes
