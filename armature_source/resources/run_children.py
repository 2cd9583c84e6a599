"""A finished run's children: its trace, tool calls and evaluation, fetched together.

Fills `trace_spans`, `tool_calls`, `evaluations` and `evaluation_criteria`. A child the host
does not serve (404, retries exhausted, a body that cannot be read) is reported as lacking,
with the reason, so the runs resource can ask again on a later load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from armature_source import endpoints as api
from armature_source import tables as t
from armature_source.http.client import Failed, Missing
from armature_source.http.paging import pick_rows
from armature_source.vocabulary import VERDICT_STATUSES

if TYPE_CHECKING:
    from armature_source.load.job import Job, JobClient

# child kind -> where it is served
CHILDREN = {"trace": api.RUN_TRACE, "tool_calls": api.RUN_TOOL_CALLS, "evaluation": api.RUN_EVALUATION}


def children_of(row: dict[str, Any]) -> list[str]:
    """The child kinds a terminal run has: an evaluation only when the judge gave a verdict."""
    kinds = ["trace", "tool_calls"]
    if row.get("status") in VERDICT_STATUSES:
        kinds.append("evaluation")
    return kinds


@dataclass
class Fetched:
    """What the host served of one run's children: bodies by kind, and why the rest lack."""

    bodies: dict[str, Any]
    lacking: dict[str, str]

    @property
    def gone(self) -> bool:
        """Some child answered 404: the run itself may be gone (ask by id to know)."""
        return any(reason.startswith("404") for reason in self.lacking.values())


def fetch(client: "JobClient", wanted: list[tuple[str, list[str]]]) -> list[Fetched]:
    """GET the given children of many runs at once; one `Fetched` per run, in order."""
    requests = [(CHILDREN[kind].path(run_id), None)
                for run_id, kinds in wanted for kind in kinds]
    return _sorted(wanted, client.get_many(requests, failed_ok=True))


class Asked:
    """The children of one batch of runs, asked for at once and on their way.

    For a batch of a page's runs (at most a few hundred requests): they are sent while the
    batch before is turned into tables, so the connections never wait for that.
    """

    def __init__(self, client: "JobClient", wanted: list[tuple[str, list[str]]]) -> None:
        self.wanted = wanted
        self._answers = client.submit_all([(CHILDREN[kind].path(run_id), None)
                                           for run_id, kinds in wanted for kind in kinds],
                                          failed_ok=True)

    def fetched(self) -> list[Fetched]:
        """Wait for the answers; one `Fetched` per run, in order. A request that failed
        raises its error (the first in request order)."""
        answers = self._answers.result()
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        return _sorted(self.wanted, iter(answers))

    def cancel(self) -> None:
        """Drop what has not been sent or answered (the batch is not delivered)."""
        self._answers.cancel()


def _sorted(wanted: list[tuple[str, list[str]]], bodies: Iterator[Any]) -> list[Fetched]:
    out = []
    for _run_id, kinds in wanted:
        fetched = Fetched({}, {})
        for kind in kinds:
            body = next(bodies)
            if isinstance(body, Missing):
                fetched.lacking[kind] = f"404 {body.code or 'not_found'}"
            elif isinstance(body, Failed):
                fetched.lacking[kind] = body.reason
            else:
                fetched.bodies[kind] = body
        out.append(fetched)
    return out


class ChildRows:
    """Collects the child rows of a batch of runs into one Arrow table per table."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.evaluations: list[dict[str, Any]] = []
        self.criteria: list[dict[str, Any]] = []

    def add(self, run_id: str, bodies: dict[str, Any]) -> None:
        if "trace" in bodies:
            self.spans += _owned(pick_rows(bodies["trace"], *api.RUN_TRACE.envelope), run_id)
        if "tool_calls" in bodies:
            self.calls += _owned(pick_rows(bodies["tool_calls"], *api.RUN_TOOL_CALLS.envelope), run_id)
        evaluation = bodies.get("evaluation")
        if isinstance(evaluation, dict):
            criteria = evaluation.pop("criteria", None) or []
            self.evaluations += _owned([evaluation], run_id)
            self.criteria += _owned(criteria, run_id)

    def items(self, job: "Job") -> Iterator[Any]:
        for table, rows in (
            (t.TRACE_SPANS, self.spans), (t.TOOL_CALLS, self.calls),
            (t.EVALUATIONS, self.evaluations), (t.EVALUATION_CRITERIA, self.criteria),
        ):
            yield from job.emit(table, rows)


def _owned(rows: list[Any], run_id: str) -> list[dict[str, Any]]:
    """The child records, each stamped with its run (the bodies are this load's own)."""
    for row in rows:
        row["run_id"] = run_id
    return rows

