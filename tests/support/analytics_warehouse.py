"""Helpers for the sample warehouse the analytics tests share (the `sample_warehouse` fixture,
in tests/conftest.py): the dictionary's world, loaded twice a day apart into DuckDB, views
applied; and reading tables and views back as plain rows."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

import duckdb
import pandas as pd

from armature_analytics.dictionary import SAMPLE_WORLD, load_sample
from armature_pipeline.warehouse import read_copy
from armature_sim.server import RunningSim
from tests.support.warehouse import DATASET, Warehouse


def build_sample(warehouse: Warehouse, sim: RunningSim) -> None:
    """Load the sample world into `warehouse`, views applied, its read copy published as the
    command publishes it, and note what the tests compare with."""
    sim.control.reset(**SAMPLE_WORLD)
    try:
        created = load_sample(warehouse.pipeline(), sim)
        facts = {"created_views": created, "truth": sim.control.truth()}
    finally:
        sim.control.reset()
    read_copy.publish(warehouse.db_path, warehouse.read_copy().db_path)
    (warehouse.root / "facts.json").write_text(json.dumps(facts))


def view_names(warehouse: Warehouse) -> set[str]:
    """The views in the warehouse's dataset."""
    rows = warehouse.query_catalog(
        "select table_name from information_schema.tables "
        f"where table_schema = '{DATASET}' and table_type = 'VIEW'"
    )
    return {r[0] for r in rows}


def raw(warehouse: Warehouse, table: str) -> pd.DataFrame:
    """A whole table as pandas: timestamps in UTC, dates as dates, JSON columns still text."""
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        frame = con.execute(f"select * from {DATASET}.{table}").df()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(frame[column].dtype):
            # the tables' only zone-less datetimes are DATE columns
            frame[column] = frame[column].dt.date
    return frame


def json_field(values: pd.Series, field: str) -> pd.Series:
    """One field of a JSON text column (None where absent)."""
    return values.map(lambda text: None if text is None or text is pd.NA else json.loads(text).get(field))


def plain(value: Any) -> Any:
    """A value as plain Python for comparison: numpy scalars unwrapped, NaN/NA as None,
    instants as UTC ISO text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if hasattr(value, "item"):
        return plain(value.item())
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _sort_key(row: tuple[Any, ...]) -> str:
    return repr(tuple(round(v, 6) if isinstance(v, float) else v for v in row))


def rows_of(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows of a frame as tuples of plain values, sorted."""
    found = [tuple(plain(v) for v in row) for row in frame[columns].itertuples(index=False)]
    return sorted(found, key=_sort_key)


def plain_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Query results as tuples of plain values, sorted."""
    return sorted((tuple(plain(v) for v in row) for row in rows), key=_sort_key)


def view_rows(warehouse: Warehouse, view: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows of a view as tuples of plain values, sorted."""
    return plain_rows(warehouse.query(f"select {', '.join(columns)} from {view}"))


def assert_same_rows(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    """Equal row for row; floats equal to nine significant digits."""
    assert len(actual) == len(expected), f"{len(actual)} rows, expected {len(expected)}"
    for got, want in zip(actual, expected, strict=True):
        same = len(got) == len(want) and all(
            math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9)
            if isinstance(g, (int, float)) and isinstance(w, (int, float)) else g == w
            for g, w in zip(got, want, strict=True)
        )
        assert same, f"view row {got}\n   expected {want}"


def utc_date(values: pd.Series) -> pd.Series:
    """The UTC calendar date of each timestamp."""
    return values.dt.tz_convert("UTC").dt.date

