"""Which rolling range a load asks for, one rule a case: the ranges are the API's own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from armature_source.load.windows import EDGE_MARGIN, Window, pick_window
from armature_source.vocabulary import INSIGHT_RANGES, RUN_RANGES

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
NO_LOOKBACK = timedelta(0)

PICKS = [
    pytest.param(RUN_RANGES, None, NO_LOOKBACK, Window("30d", None),
                 id="a first load asks for the widest range and all it can get"),
    pytest.param(INSIGHT_RANGES, None, NO_LOOKBACK, Window("90d", None),
                 id="a first load of insights asks for their widest range"),
    pytest.param(RUN_RANGES, NOW - timedelta(hours=2), NO_LOOKBACK, Window("24h", NOW - timedelta(hours=2)),
                 id="a recent mark asks for the smallest range"),
    pytest.param(RUN_RANGES, NOW - timedelta(hours=2), 2 * DAY, Window("7d", NOW - timedelta(hours=2) - 2 * DAY),
                 id="the lookback reaches back before the mark"),
    pytest.param(RUN_RANGES, NOW - DAY + EDGE_MARGIN, NO_LOOKBACK, Window("24h", NOW - DAY + EDGE_MARGIN),
                 id="a mark at the edge margin inside a range still fits it"),
    pytest.param(RUN_RANGES, NOW - DAY + EDGE_MARGIN - timedelta(seconds=1), NO_LOOKBACK,
                 Window("7d", NOW - DAY + EDGE_MARGIN - timedelta(seconds=1)),
                 id="a mark closer to a range's edge than the margin needs the next range"),
    pytest.param(RUN_RANGES, NOW - 40 * DAY, NO_LOOKBACK,
                 Window("30d", NOW - 40 * DAY, gap=(NOW - 40 * DAY, NOW - 30 * DAY)),
                 id="a mark beyond the widest range asks for it and reports the gap it leaves"),
    pytest.param(INSIGHT_RANGES, NOW - 40 * DAY, NO_LOOKBACK, Window("90d", NOW - 40 * DAY),
                 id="the widest range of insights reaches a mark the runs cannot"),
    pytest.param(RUN_RANGES, NOW + DAY, NO_LOOKBACK, Window("24h", NOW + DAY),
                 id="a mark from the future asks for the smallest range"),
    pytest.param({"30d": 30 * DAY, "24h": DAY, "7d": 7 * DAY}, NOW - 3 * DAY, NO_LOOKBACK,
                 Window("7d", NOW - 3 * DAY), id="ranges are tried by their span, not their order"),
]


@pytest.mark.parametrize(("ranges", "mark", "lookback", "window"), PICKS)
def test_pick_window_follows_its_rule(
    ranges: dict[str, timedelta], mark: datetime | None, lookback: timedelta, window: Window,
) -> None:
    assert pick_window(ranges, NOW, mark, lookback) == window


DESCRIPTIONS = [
    pytest.param(Window("30d", None), "range=30d, since the start of the window",
                 id="a window without a start says so"),
    pytest.param(Window("24h", NOW), "range=24h, since 2024-06-30T12:00:00+00:00",
                 id="a window with a start names it"),
]


@pytest.mark.parametrize(("window", "text"), DESCRIPTIONS)
def test_a_window_describes_itself_for_the_log(window: Window, text: str) -> None:
    assert window.describe() == text
