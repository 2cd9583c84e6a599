"""The committed data dictionary is what the current code generates."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from armature_analytics.dictionary import DEFAULT_OUTPUT, write
from armature_analytics.views import load_views
from armature_source.tables import ALL_TABLES
from tests.support.warehouse import Warehouse


def test_committed_data_dictionary_matches_a_fresh_one(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    fresh = tmp_path / "data_dictionary.md"
    write(sample_warehouse.pipeline(), fresh)
    committed = DEFAULT_OUTPUT.read_text() if DEFAULT_OUTPUT.exists() else ""
    diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.read_text().splitlines(True),
                                        "docs/data_dictionary.md", "generated", n=1))
    assert not diff, f"the data dictionary is stale; run `python -m armature_analytics.dictionary`:\n{diff[:4000]}"


def test_data_dictionary_names_every_table_and_view_with_its_columns() -> None:
    text = DEFAULT_OUTPUT.read_text()
    for table in ALL_TABLES:
        assert f"### {table.name}\n" in text
        assert f"Key: {', '.join(f'`{c}`' for c in table.key)}." in text
    for view in load_views():
        section = text.split(f"### {view.name}\n", 1)[1].split("\n### ", 1)[0]
        for column in view.columns:
            assert f"| `{column}` |" in section, (view.name, column)


def test_data_dictionary_holds_no_load_ids_dates_or_row_counts() -> None:
    text = DEFAULT_OUTPUT.read_text()
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "a date"
    assert not re.search(r"\d{9,}\.\d+", text), "a load id"
    assert not re.search(r"\d+ rows", text), "a row count"
