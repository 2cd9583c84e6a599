"""dlt's `add_limit(n)` made to mean "n whole batches" for the source's resources.

dlt counts a resource's yields. A batch of runs is several yields (its children's tables, the
runs themselves, the records rejected), and the runs cursor moves only once a batch went out
whole, so a limit of n yields would deliver half a batch, close the generator before the
cursor moved, and deliver the same half again on every run: a sample or a chunked backfill
would make no progress. Here a resource's `add_limit(n)` asks for n batches that carry work:
the resource stops after them at a point where what it delivered is complete, its cursor
keeps what those batches covered, and the next run goes on with the next ones. A resource
that reads in one go (every one but `runs`) loads whole. `max_time` keeps dlt's meaning.
"""

from __future__ import annotations

from typing import Any

from dlt.sources import DltResource


class BatchedResource(DltResource):
    """A resource whose `add_limit(n)` counts whole batches (see the module)."""

    batch_limits: dict[str, int] | None = None  # shared with the load: resource -> batches

    def add_limit(self, max_items: int | None = None, max_time: float | None = None,
                  count_rows: bool | None = False) -> Any:
        if self.batch_limits is not None:
            if max_items is None:
                self.batch_limits.pop(self.name, None)
            else:
                self.batch_limits[self.name] = max_items
        # dlt's own limit keeps only the time: it closes the generator wherever it stands
        return super().add_limit(max_items=None, max_time=max_time, count_rows=count_rows)
