"""Late children: a terminal run's trace, tool calls and evaluation answer 404 until its end plus
the delay (or never, for the runs named), while the run is listed and served by id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from armature_sim.server import RunningSim

CHILDREN = ("trace", "tool-calls", "evaluation")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_line(sim: RunningSim, run_id: str) -> dict[str, Any]:
    return next(r for r in sim.control.truth()["runs"] if r["id"] == run_id)


def child_statuses(api: httpx.Client, run_id: str) -> list[tuple[int, str | None]]:
    """(status, error code) of the run's three children endpoints."""
    answers = [api.get(f"/runs/{run_id}/{child}") for child in CHILDREN]
    return [(a.status_code, a.json()["error"]["code"] if a.is_error else None) for a in answers]


def minutes_until(sim: RunningSim, when: str, less_ms: int = 0) -> float:
    return ((moment(when) - sim.control.now()).total_seconds() * 1000 - less_ms) / 60_000


def ending_run(sim: RunningSim) -> str:
    """A run open now that ends judged, with the clock moved to at most a minute past its end."""
    open_now = set(sim.control.truth()["open_runs"])
    for _ in range(180):
        sim.control.advance(minutes=1)
        ended = [r["id"] for r in sim.control.truth()["runs"] if r["id"] in open_now and r["has_evaluation"]]
        if ended:
            return ended[0]
    raise AssertionError("no open run ended judged within three hours")


def test_a_terminal_runs_children_are_404_until_its_end_plus_the_delay(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.configure(children_delay_minutes=45)
    run_id = ending_run(sim)
    line = run_line(sim, run_id)
    assert not line["children_available"]
    assert child_statuses(api, run_id) == [(404, "not_found")] * 3
    assert api.get(f"/runs/{run_id}").json()["status"] == line["status"]
    assert run_id in {r["id"] for r in api.get("/runs", params={"pageSize": 100}).json()["rows"]}
    sim.control.advance(minutes=minutes_until(sim, line["children_available_at"], less_ms=1))
    assert child_statuses(api, run_id) == [(404, "not_found")] * 3
    sim.control.advance(minutes=1 / 60_000)
    assert sim.control.now() == moment(line["children_available_at"])
    assert run_line(sim, run_id)["children_available"]
    assert child_statuses(api, run_id) == [(200, None)] * 3


def test_the_truth_says_when_each_terminal_runs_children_appear(sim: RunningSim) -> None:
    sim.control.reset(children_delay_minutes=90)
    truth = sim.control.truth()
    assert truth["children"] == {"delay_minutes": 90, "missing_run_ids": []}
    now = moment(truth["now"])
    for line in truth["runs"]:
        if line["terminal"]:
            assert line["children_available"] == (moment(line["children_available_at"]) <= now)
        else:
            assert line["children_available_at"] is None and line["children_available"]


def test_available_at_is_the_runs_end_plus_the_delay(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.configure(children_delay_minutes=30)
    for line in [r for r in sim.control.truth()["runs"] if r["terminal"]][:10]:
        ended = moment(api.get(f"/runs/{line['id']}").json()["ended_at"])
        assert (moment(line["children_available_at"]) - ended).total_seconds() == 30 * 60


def test_open_runs_still_serve_what_they_have_so_far(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.configure(children_delay_minutes=24 * 60)
    open_id = sim.control.truth()["open_runs"][-1]
    assert [status for status, _ in child_statuses(api, open_id)][:2] == [200, 200]


def test_runs_named_missing_never_get_children(sim: RunningSim, api: httpx.Client) -> None:
    terminal = [r["id"] for r in sim.control.truth()["runs"] if r["terminal"] and r["has_evaluation"]][:3]
    sim.control.configure(children_missing_run_ids=terminal[:2])
    sim.control.advance(minutes=3 * 24 * 60)
    for run_id in terminal[:2]:
        line = run_line(sim, run_id)
        assert (line["children_available"], line["children_available_at"]) == (False, None)
        assert child_statuses(api, run_id) == [(404, "not_found")] * 3
        assert api.get(f"/runs/{run_id}").status_code == 200
    assert child_statuses(api, terminal[2]) == [(200, None)] * 3
    assert sim.control.truth()["children"]["missing_run_ids"] == sorted(terminal[:2])


def test_an_unjudged_run_says_evaluation_not_available_once_its_children_are_there(
    sim: RunningSim, api: httpx.Client
) -> None:
    unjudged = next(r for r in sim.control.truth()["runs"] if r["terminal"] and not r["has_evaluation"])
    sim.control.configure(children_delay_minutes=0)
    assert child_statuses(api, unjudged["id"])[2] == (404, "evaluation_not_available")


def test_the_delay_is_a_reset_option_and_a_reset_clears_it(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(children_delay_minutes=60 * 24 * 60)
    run_id = next(r["id"] for r in sim.control.truth()["runs"] if r["terminal"])
    assert child_statuses(api, run_id)[0] == (404, "not_found")
    sim.control.reset()
    assert child_statuses(api, run_id)[0] == (200, None)
