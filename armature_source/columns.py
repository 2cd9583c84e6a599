"""Rows as typed Arrow tables, routed to their warehouse table.

Every table is handed to dlt as Arrow with an explicit schema, so dlt's normalizer never
walks Python dicts row by row. Open-ended objects become one JSON column each; fields the
host sends beyond the declared columns land as extra columns (scalars as they are, objects
as JSON).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Iterable, Mapping

import dlt
import pyarrow as pa

from armature_source.tables import Table
from armature_source.timestamps import parse_ts


ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}


LOAD_ID = "_dlt_load_id"


def routed(table: Table, rows: Iterable[Mapping[str, Any]]) -> Any:
    """Rows as an Arrow item that dlt routes to `table`, each row stamped with its load id.

    dlt stamps Arrow items only when told so in process-wide config; stamping here keeps that
    config untouched for every other source in the process.
    """
    item = to_arrow(table, rows)
    load_id = dlt.current.load_package_state()["load_id"]
    item = item.append_column(
        pa.field(LOAD_ID, pa.string(), nullable=False),
        pa.repeat(pa.scalar(load_id, pa.string()), item.num_rows),
    )
    return dlt.mark.with_table_name(item, table.name)


def to_arrow(table: Table, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (snake_case dicts) as an Arrow table with the table's schema plus extras."""
    rows = list(rows)
    fields: list[pa.Field] = []
    arrays: list[pa.Array] = []
    for name, kind in table.columns.items():
        arrays.append(pa.array([_coerce(r.get(name), kind) for r in rows], ARROW_TYPES[kind]))
        fields.append(pa.field(name, ARROW_TYPES[kind], nullable=name not in table.key))
    extras = sorted({k for r in rows for k in r} - set(table.columns))
    for name in extras:
        if name.startswith("_"):
            continue
        arrays.append(_infer([r.get(name) for r in rows]))
        fields.append(pa.field(name, arrays[-1].type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _coerce(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if kind == "timestamp":
        return parse_ts(value)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if kind == "bigint":
        return int(value) if not isinstance(value, str) else int(float(value))
    if kind == "double":
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
    return value if isinstance(value, str) else str(value)


def _infer(values: list[Any]) -> pa.Array:
    """An Arrow array for a field the contract does not name."""
    present = [v for v in values if v is not None]
    if any(isinstance(v, (dict, list)) for v in present):
        return pa.array([None if v is None else json.dumps(v) for v in values], pa.string())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
