"""Rows as typed Arrow tables, routed to their warehouse table, whatever the host served.

Every table is handed to dlt as Arrow with an explicit schema, so dlt's normalizer never
walks Python dicts row by row. Each column is built in one step when its values already have
the right shape (the usual case: Arrow parses the timestamps itself); only a column holding
a value that does not fit is built value by value, and such a value becomes null and is
reported as a problem of its row, never an error. A row without its key is left out and
reported. Open-ended objects become one JSON column each.

The table's columns are exactly the declared ones: fields the host sends beyond them never
become columns (a drifting host would add thousands), they are kept together as one JSON
object in `extra_fields`, cut at 64 KiB. A field is matched to its column by dlt's own naming
(`Cost-USD` means `cost_usd`), so two fields that mean one column (`startedAt` beside
`started_at`) are found here: the column's value is nulled and the record rejected, never
overwritten. A fraction is never truncated into an integer column, and `NaN` or `Infinity`
never enters a numeric one: each is a rejected value.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import dlt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.normalizers.naming.snake_case import NamingConvention

from armature_source.http.lenient_json import UNREADABLE
from armature_source.tables import Table
from armature_source.tables.table import EXTRA_COLUMN, LOAD_ID_COLUMN
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
EXTRA_LIMIT = 64 * 1024
# where a row keeps the fields that collided on one column, for rejected_records' raw record
COLLIDED = "_collided"
_NAMING = NamingConvention()
_dumps = orjson.dumps
_SHORT = reprlib.Repr()


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

    `problems` maps the index of a row in the input to its problems (`column: reason`), each
    of which nulled that column; `notes` to what else was wrong with it as served (a cut, the
    reason it could not be read at all); `dropped` lists the input rows left out because
    their key was missing.
    """

    table: pa.Table
    problems: dict[int, list[str]] = field(default_factory=dict)
    dropped: list[int] = field(default_factory=list)
    notes: dict[int, list[str]] = field(default_factory=dict)
    undeclared: set[str] = field(default_factory=set)  # fields kept in extra_fields


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
    """Rows (snake_case dicts) as an Arrow table with exactly the table's columns."""
    given = list(rows)
    notes: dict[int, list[str]] = {}
    undeclared: set[str] = set()
    keep = [_arranged(table, r, i, notes, undeclared) for i, r in enumerate(given)]
    dropped = [i for i, r in enumerate(keep) if r is None or not table.keyed(r)]
    gone = set(dropped)
    index = [i for i in range(len(keep)) if i not in gone] if dropped else None
    kept = [r for i, r in enumerate(keep) if r is not None and i not in gone]
    problems: dict[int, list[str]] = {}
    fields: list[pa.Field] = []
    arrays: list[pa.Array] = []
    for name, kind in table.columns.items():
        values = [r.get(name) for r in kept]
        try:
            array = _FAST[kind](values)
        except _MISFIT:
            array = _careful(values, kind, name, problems)
        arrays.append(array)
        fields.append(pa.field(name, ARROW_TYPES[kind], nullable=name not in table.key))
    if index is not None:  # problems speak of the input's rows
        problems = {index[i]: p for i, p in problems.items()}
    for i, found in _collisions(kept, index).items():
        problems.setdefault(i, []).extend(found)
    return Converted(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), problems, dropped, notes,
                     undeclared)


def _arranged(table: Table, row: Mapping[str, Any], i: int, notes: dict[int, list[str]],
              undeclared: set[str]) -> Mapping[str, Any] | None:
    """The row with every field under the column it means, undeclared ones in `extra_fields`;
    None for a record that could not be read at all."""
    if UNREADABLE in row:
        notes.setdefault(i, []).append(f"could not be read as served: {row[UNREADABLE]}")
        return None
    columns = table.columns
    if all(key in columns or key[:1] == "_" for key in row) and EXTRA_COLUMN not in row:
        return row  # the usual case: nothing to move
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    meant: dict[str, list[str]] = {}
    for key, value in row.items():
        if key[:1] == "_":
            out[key] = value
            continue
        column = key if key in columns and key != EXTRA_COLUMN else column_name(key)
        if column in columns and column != EXTRA_COLUMN:
            meant.setdefault(column, []).append(key)
            out[column] = value
        else:
            extra[key] = value
    collided = {column: keys for column, keys in meant.items() if len(keys) > 1}
    for column, keys in collided.items():
        out[column] = None
        out.setdefault(COLLIDED, {})[column] = {k: row[k] for k in keys}
    if extra and table.keeps_extras:
        undeclared.update(extra)
        out[EXTRA_COLUMN], cut = _extra_json(extra)
        if cut:
            notes.setdefault(i, []).append(cut)
    return out


def _collisions(rows: list[Mapping[str, Any]], index: list[int] | None) -> dict[int, list[str]]:
    """`column: reason` for each column two fields of a row both meant."""
    found: dict[int, list[str]] = {}
    for i, row in enumerate(rows):
        for column, values in (row.get(COLLIDED) or {}).items():
            keys = " and ".join(repr(k) for k in values)
            found.setdefault(index[i] if index else i, []).append(
                f"{column}: fields {keys} both mean this column; neither was loaded")
    return found


@lru_cache(maxsize=4096)
def column_name(key: str) -> str:
    """The column a field means, by dlt's own naming (the one that names the table's columns)."""
    return str(_NAMING.normalize_identifier(key))


def _extra_json(extra: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The undeclared fields whose JSON fits within EXTRA_LIMIT, whole fields only; and, when
    some did not fit, a note saying how many were kept."""
    text = _json_text_or_none(extra)
    if text is not None and len(text) <= EXTRA_LIMIT:
        return extra, ""
    kept: dict[str, Any] = {}
    size = 2
    for key, value in extra.items():
        part = _json_text_or_none({key: value})
        if part is None or size + len(part) > EXTRA_LIMIT:
            continue
        kept[key] = value
        size += len(part)
    return kept or None, (f"{EXTRA_COLUMN}: {len(extra)} undeclared fields, cut at "
                          f"{EXTRA_LIMIT // 1024} KiB to the {len(kept)} that fit")


def _json_text_or_none(value: Any) -> str | None:
    try:
        return _dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        try:
            return _clean(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))
        except (RecursionError, ValueError):
            return None


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


def _integers(values: list[Any]) -> pa.Array:
    """An integer column; Arrow would truncate 3.5 to 3, so a float goes the careful way."""
    if any(v.__class__ is float for v in values):
        raise TypeError("a float in an integer column")
    return _array(values, pa.int64())


def _doubles(values: list[Any]) -> pa.Array:
    """A float column; NaN and infinities go the careful way, to be rejected."""
    array = _array(values, pa.float64())
    if array.null_count < len(array) and not pc.all(pc.is_finite(array)).as_py():
        raise ValueError("not a finite number")
    return array


_FAST: dict[str, Callable[[list[Any]], pa.Array]] = {
    "text": lambda v: _array(v, pa.string()),
    "bigint": _integers,
    "double": _doubles,
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
        if not math.isfinite(value):
            raise ValueError("not a finite number")
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
    if isinstance(exc, RecursionError) or "Recursion limit" in str(exc):  # json's, and orjson's words
        return f"value nested too deep for a {kind} column"
    shown = _SHORT.repr(value)  # bounded in depth too: a value nested 1,000 deep is shown, not recursed
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{shown} is not a {kind} ({exc})" if str(exc) else f"{shown} is not a {kind}"
