"""The clock: running on its own at a speed, frozen for the truth, moved by advance on top, and a
`Date` header that can lie by an offset while the clock and the data stay put."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest

from armature_sim.server import RunningSim

WORLD = {"seed": 11, "runs": 400, "days": 30, "sessions": 300}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_running_clock_moves_at_its_speed_on_its_own(sim: RunningSim) -> None:
    sim.control.reset(clock_speed=600)
    began = time.monotonic()
    first = sim.control.now()
    time.sleep(0.5)
    second = sim.control.now()
    outer = time.monotonic() - began
    moved = (second - first).total_seconds()
    assert 0.5 * 600 <= moved <= outer * 600
    assert sim.control.truth()["clock_speed"] == 600


def test_runs_arrive_and_end_between_two_page_requests(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(**WORLD, clock_speed=4 * 3600)  # four simulated hours a second
    page = {"range": "24h", "pageSize": 100}
    before = {r["id"]: r["status"] for r in api.get("/runs", params=page).json()["rows"]}
    time.sleep(0.6)
    after = {r["id"]: r["status"] for r in api.get("/runs", params=page).json()["rows"]}
    sim.control.freeze()
    assert set(after) - set(before), "no run arrived"
    ended = [i for i, status in before.items() if status in ("pending", "running") and after.get(i) not in
             (None, "pending", "running")]
    assert ended, "no run ended"


def test_runs_age_out_of_the_window_while_the_clock_runs(sim: RunningSim) -> None:
    sim.control.reset(**WORLD, clock_speed=2 * 24 * 3600)  # two simulated days a second
    oldest = sim.control.truth()["runs"][-1]["id"]
    time.sleep(0.6)
    truth = sim.control.truth()
    assert oldest not in {r["id"] for r in truth["runs"]}
    assert truth["counts"]["runs"] > truth["counts"]["runs_in_window"]


def test_freeze_stops_the_clock_and_the_truth_describes_that_instant(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(clock_speed=3600)
    time.sleep(0.2)
    stopped = sim.control.freeze()
    time.sleep(0.3)
    truth = sim.control.truth()
    assert moment(truth["now"]) == stopped == sim.control.now()
    assert truth["clock_speed"] == 0
    answer = api.get("/runs")
    assert parsedate_to_datetime(answer.headers["date"]) == stopped.replace(microsecond=0)
    assert sim.control.requests()[-1]["at"] == truth["now"]


def test_a_running_world_equals_the_stepped_world_at_the_same_instant(sim: RunningSim, api: httpx.Client) -> None:
    start = moment(sim.control.reset(**WORLD, clock_speed=3 * 3600)["now"])
    for page in range(1, 6):
        api.get("/runs", params={"range": "30d", "page": page, "pageSize": 50})
        api.get("/insights/sessions", params={"range": "24h"})
        time.sleep(0.05)
    stopped = sim.control.freeze()
    running = sim.control.truth()
    sim.control.reset(**WORLD)
    sim.control.advance(minutes=(stopped - start) / timedelta(minutes=1))
    assert sim.control.now() == stopped
    assert sim.control.truth() == running


def test_advance_moves_a_running_clock_forward_and_it_runs_on(sim: RunningSim) -> None:
    sim.control.reset(clock_speed=60)
    began = time.monotonic()
    before = sim.control.now()
    report = sim.control.advance(minutes=120)
    after = sim.control.now()
    real = time.monotonic() - began
    assert timedelta(minutes=120) <= after - before <= timedelta(minutes=120, seconds=real * 60)
    assert moment(report["now"]) >= before + timedelta(minutes=120)
    time.sleep(0.2)
    assert sim.control.now() > after


def test_the_clock_speed_can_be_set_and_a_reset_freezes_it_again(sim: RunningSim) -> None:
    switches = sim.control.configure(clock_speed=120)
    assert switches["clock_speed"] == 120
    assert sim.control._call("GET", "/clock")["speed"] == 120
    sim.control.reset()
    first = sim.control.now()
    time.sleep(0.1)
    assert sim.control.now() == first
    assert sim.control.truth()["clock_speed"] == 0


@pytest.mark.parametrize("offset", [-7200, 95])
def test_a_date_offset_shifts_only_the_date_header(sim: RunningSim, api: httpx.Client, offset: int) -> None:
    before = sim.control.truth()
    body = api.get("/runs", params={"range": "30d"}).content
    sim.control.configure(date_offset_s=offset)
    answer = api.get("/runs", params={"range": "30d"})
    truth = sim.control.truth()
    now = moment(truth["now"])
    assert now == moment(before["now"])
    assert answer.content == body
    assert parsedate_to_datetime(answer.headers["date"]) == (now + timedelta(seconds=offset)).replace(microsecond=0)
    assert answer.headers["date"] == truth["date_header"] == format_datetime(
        now + timedelta(seconds=offset), usegmt=True
    )
    assert truth["date_offset_s"] == offset
    assert {k: v for k, v in truth.items() if not k.startswith("date_")} == {
        k: v for k, v in before.items() if not k.startswith("date_")
    }


def test_a_date_offset_from_reset_applies_to_every_answer(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(date_offset_s=3600)
    now = sim.control.now()
    shown = now + timedelta(hours=1)
    for path in ("/org", "/runs/nope", "/openapi"):
        assert parsedate_to_datetime(api.get(path).headers["date"]) == shown.replace(microsecond=0)
    sim.control.reset()
    assert parsedate_to_datetime(api.get("/org").headers["date"]) == now.replace(microsecond=0)
