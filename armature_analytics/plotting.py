"""matplotlib helpers the analyst notebooks share: axes of days that fit the data, bars when
there is a single day to show, legends beside the plot instead of over it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

# half a day either side: one day's bar or point sits in the middle of its own axis
_PAD = timedelta(hours=14)


def barh(ax: Axes, labels: Iterable[Any], values: Iterable[Any], title: str, xlabel: str) -> None:
    """A horizontal bar chart, first row on top; an empty frame draws an empty chart."""
    ax.barh([str(label) for label in labels][::-1], list(values)[::-1])
    ax.set_title(title)
    ax.set_xlabel(xlabel)


def day_axis(ax: Axes, days: Iterable[date | datetime | pd.Timestamp]) -> None:
    """Limit the x axis to the days shown (padded), with concise date labels.

    Without limits matplotlib spreads a single day over several years.
    """
    found = sorted(pd.Timestamp(d).to_pydatetime() for d in days)
    locator = mdates.AutoDateLocator(minticks=2, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if found:
        ax.set_xlim(found[0] - _PAD, found[-1] + _PAD)


def series_over_days(
    ax: Axes, frame: pd.DataFrame, *, day: str, series: str, value: str, title: str, unit: str,
) -> str:
    """One line per series across the days, or, with a single day, bars for that day.

    Returns:
        "bars" or "lines": what was drawn.
    """
    days = sorted(frame[day].unique())
    if len(days) <= 1:
        latest = frame.sort_values(value, ascending=False)
        barh(ax, latest[series], latest[value], f"{title}, snapshot of {_day(days)}", unit)
        return "bars"
    for name, rows in frame.groupby(series, sort=False):
        rows = rows.sort_values(day)
        ax.plot(pd.to_datetime(rows[day]), rows[value], marker="o", label=str(name))
    day_axis(ax, pd.to_datetime(pd.Series(days)))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.set_ylabel(unit)
    legend_outside(ax)
    return "lines"


def legend_outside(ax: Axes, title: str | None = None) -> None:
    """The legend to the right of the plot, where it covers no bar or line."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def _day(days: Sequence[Any]) -> str:
    return f"{pd.Timestamp(days[0]):%d %b %Y}" if len(days) else "no day"
