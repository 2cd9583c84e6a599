"""Rows as typed Arrow tables, routed to their warehouse table, whatever the host served.

Every table is handed to dlt as Arrow with an explicit schema, so dlt's normalizer never
walks Python dicts row by row. Each column is built in one step when its values already have
the right shape (the usual case: Arrow parses the timestamps itself); only a column holding
a value that does not fit is built value by value, and such a value becomes null and is
reported as a problem of its row, never an error. A row without its key is left out and
reported. Open-ended objects become one JSON column each; fields the host sends beyond the
declared columns land as extra columns (scalars as they are, objects as JSON).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable, Mapping

import dlt
import orjson
import pyarrow as pa

from armature_source.tables import Table
from armature_source.tables.table import LOAD_ID_COLUMN
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
# what a column builder may raise on a value that does not fit
_MISFIT = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError, TypeError, UnicodeError,
           RecursionError)
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
INT64 = (-(2**63), 2**63 - 1)
_dumps = orjson.dumps


def _pool() -> pa.MemoryPool:
    """jemalloc's pool: as fast as Arrow's default, and it gives freed memory back (bench/NOTES.md)."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        return pa.system_memory_pool()


_POOL = _pool()


@dataclass
class Converted:
    """An Arrow table and what could not go into it as served.

    `problems` maps the index of a row in the input to its problems (`column: reason`);
    `dropped` lists the input rows left out because their key was missing.
    """

    table: pa.Table
    problems: dict[int, list[str]] = field(default_factory=dict)
    dropped: list[int] = field(default_factory=list)


def routed(table: Table, rows: Iterable[Mapping[str, Any]] | pa.Table) -> Any:
    """Rows (or a converted Arrow table) as an item that dlt routes to `table`, each row
    stamped with its load id.

    dlt stamps Arrow items only when told so in process-wide config; stamping here keeps that
    config untouched for every other source in the process.
    """
    item = rows if isinstance(rows, pa.Table) else to_arrow(table, rows).table
    load_id = dlt.current.load_package_state()["load_id"]
    item = item.append_column(
        pa.field(LOAD_ID_COLUMN, pa.string(), nullable=False),
        pa.repeat(pa.scalar(load_id, pa.string()), item.num_rows),
    )
    return dlt.mark.with_table_name(item, table.name)


def to_arrow(table: Table, rows: Iterable[Mapping[str, Any]]) -> Converted:
    """Rows (snake_case dicts) as an Arrow table with the table's schema plus extras."""
    given = list(rows)
    dropped = [i for i, r in enumerate(given) if any(r.get(k) is None for k in table.key)]
    index: list[int] | None = None
    keep = given
    if dropped:
        gone = set(dropped)
        index = [i for i in range(len(given)) if i not in gone]
        keep = [given[i] for i in index]
    problems: dict[int, list[str]] = {}
    fields: list[pa.Field] = []
    arrays: list[pa.Array] = []
    for name, kind in table.columns.items():
        values = [r.get(name) for r in keep]
        try:
            array = _FAST[kind](values)
        except _MISFIT:
            array = _careful(values, kind, name, problems)
        arrays.append(array)
        fields.append(pa.field(name, ARROW_TYPES[kind], nullable=name not in table.key))
    for name in sorted({k for r in keep for k in r} - set(table.columns)):
        if not name.startswith("_"):
            arrays.append(_infer([r.get(name) for r in keep]))
            fields.append(pa.field(name, arrays[-1].type))
    if index is not None:  # problems speak of the input's rows
        problems = {index[i]: p for i, p in problems.items()}
    return Converted(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), problems, dropped)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_column(values: list[Any]) -> pa.Array:
    """JSON text of each value, by orjson (several times faster than `json`, same compact
    text but for float spelling). A value orjson refuses (a key that is not a string, a
    lone surrogate, an integer beyond 64 bits) sends the column to the `json` path."""
    try:
        return _array([None if v is None else _dumps(v).decode() for v in values], pa.string())
    except orjson.JSONEncodeError:
        return _array([_json_text(x) for x in values], pa.string())


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    return pa.array(values, kind, memory_pool=_POOL)


def _parsed(values: list[Any], kind: pa.DataType) -> pa.Array:
    return _array(values, pa.string()).cast(kind, memory_pool=_POOL)


_FAST: dict[str, Callable[[list[Any]], pa.Array]] = {
    "text": lambda v: _array(v, pa.string()),
    "bigint": lambda v: _array(v, pa.int64()),
    "double": lambda v: _array(v, pa.float64()),
    "bool": lambda v: _array(v, pa.bool_()),
    "timestamp": lambda v: _parsed(v, ARROW_TYPES["timestamp"]),
    "date": lambda v: _parsed(v, pa.date32()),
    "json": _json_column,
}


def _careful(values: list[Any], kind: str, column: str, problems: dict[int, list[str]]) -> pa.Array:
    """Build a column value by value; a value that does not fit becomes null, noted."""
    out: list[Any] = []
    for i, value in enumerate(values):
        try:
            out.append(_coerce(value, kind))
        except _MISFIT as exc:
            out.append(None)
            problems.setdefault(i, []).append(f"{column}: {_why(value, kind, exc)}")
    return _array(out, ARROW_TYPES[kind])


def _coerce(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "json":
        return _clean(_json_text(value) or "")
    if kind == "timestamp":
        stamp = parse_ts(value)
        if stamp is None:
            raise ValueError("empty")
        return stamp
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if kind == "bigint":
        number = value if isinstance(value, int) and not isinstance(value, bool) else _whole(value)
        if not INT64[0] <= number <= INT64[1]:
            raise OverflowError("integer beyond 64 bits")
        return number
    if kind == "double":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("not a number")
        return float(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text not in ("true", "false", "1", "0"):
            raise TypeError("not a boolean")
        return text in ("true", "1")
    return _clean(value if isinstance(value, str) else str(value))


def _whole(value: Any) -> int:
    """A whole number given as a float (3.0) or as digits ("12"); anything else is refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise TypeError("not a whole number")


def _clean(text: str) -> str:
    """Text every destination takes: NUL and lone surrogates become U+FFFD."""
    return _BAD_TEXT.sub("\ufffd", text)


def _why(value: Any, kind: str, exc: BaseException) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    if isinstance(exc, RecursionError):
        return f"value nested too deep for a {kind} column"
    return f"{shown} is not a {kind} ({exc})" if str(exc) else f"{shown} is not a {kind}"


def _infer(values: list[Any]) -> pa.Array:
    """An Arrow array for a field the contract does not name; text if nothing else fits."""
    present = [v for v in values if v is not None]
    try:
        if any(isinstance(v, (dict, list)) for v in present):
            return pa.array([None if v is None else _clean(json.dumps(v)) for v in values], pa.string())
        return pa.array(values)
    except _MISFIT:
        return pa.array([None if v is None else _clean(str(v)) for v in values], pa.string())
