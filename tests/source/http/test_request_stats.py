"""The client's counters: added to by name, the names checked by mypy and here."""

from __future__ import annotations

import threading
from dataclasses import fields

import pytest

from armature_source.http.outcomes import Amounts, RequestStats


def test_every_counter_and_nothing_else_can_be_added_to_by_name() -> None:
    counters = {f.name for f in fields(RequestStats) if not f.name.startswith("_")}
    assert set(Amounts.__annotations__) == counters


ADDS = [
    pytest.param([Amounts(requests=1)], Amounts(requests=1), id="an amount adds to its counter"),
    pytest.param([Amounts(requests=1), Amounts(requests=1, retries=1)], Amounts(requests=2, retries=1),
                 id="amounts add up across calls"),
    pytest.param([Amounts(repairs=4, rate_limited=1)], Amounts(repairs=4, rate_limited=1),
                 id="one call adds to several counters"),
]


@pytest.mark.parametrize(("calls", "counted"), ADDS)
def test_add_adds_to_the_named_counters_only(calls: list[Amounts], counted: Amounts) -> None:
    stats = RequestStats()
    for amounts in calls:
        stats.add(**amounts)
    assert stats == RequestStats(**counted)


def test_counts_from_many_threads_are_not_lost() -> None:
    stats = RequestStats()

    def count() -> None:
        for _ in range(10_000):
            stats.add(requests=1)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.requests == 40_000
