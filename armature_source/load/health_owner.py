"""The load-health tables belong to `load_health`, whichever data resource writes them.

Every data resource appends to `coverage_gaps`, `rejected_records` and `load_ledger`, and dlt
marks a table in its schema as the resource that computed it last. Left so, dlt's own
`drop <resource>` or a refresh of some resources would take the health tables with whichever
resource wrote them last; and which one that was depended on thread timing, so a load that
found nothing new could still store a new schema version. Here the table schema a data
resource computes for a health table names the owner, on every write, in the thread that
writes it: the stored schema is the same whatever order the resources end in.
"""

from __future__ import annotations

from typing import Any

from dlt.common.schema.typing import TTableSchema

from armature_source import tables as t
from armature_source.load.batches import BatchedResource

# the resource the health tables belong to: it reads nothing itself (source._owns_health_tables)
HEALTH_OWNER = "load_health"
HEALTH_NAMES = frozenset(table.name for table in t.HEALTH)


class SourceResource(BatchedResource):
    """A data resource of the source: `add_limit` counts whole batches (`batches`), and the
    health tables it writes stay the owner's (see the module)."""

    def compute_table_schema(self, item: Any = None, meta: Any = None) -> TTableSchema:
        schema = super().compute_table_schema(item, meta)
        if schema.get("name") in HEALTH_NAMES:
            schema["resource"] = HEALTH_OWNER
        return schema
