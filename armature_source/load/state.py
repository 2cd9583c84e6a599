"""The shapes of what the source keeps in dlt's state, typed.

dlt keeps each resource's state as JSON inside the pipeline state, which it syncs to the
destination with the data, so a new machine resumes from the warehouse. Each shape here is a
`TypedDict` over that same JSON: mypy checks every key the code reads or writes, and the JSON
stays what it is. Where an older version of the source wrote another shape (the positional
lists of runs' `open` and sessions' `known`), the book that reads it upgrades it in place.

    every resource   rejected   digests of the records already in rejected_records
    catalog, insights digests   digests of the rows last delivered
    workflows        listed     the workflow ids the list showed last time
    runs             mark, open, done, awaiting            (resources/run_book.py)
    sessions         mark, known, unread                   (resources/session_book.py)
    the source       coverage   the last coverage gaps found, for `status`
                     organization_id, organization_slug  whose data the warehouse holds
"""

from __future__ import annotations

from typing import Any, TypedDict, cast

import dlt


class QuarantineState(TypedDict, total=False):
    rejected: dict[str, str]  # rejection digest -> when it was found


class DigestsState(TypedDict, total=False):
    digests: dict[str, str]  # row key -> digest of the row last delivered


class CatalogState(QuarantineState, DigestsState, total=False):
    pass


class WorkflowsState(CatalogState, total=False):
    listed: list[str]


class OpenRun(TypedDict):
    started_at: str | None
    status: str | None


class AwaitingRun(TypedDict):
    started_at: str | None
    status: str | None
    since: str  # when the load first found children missing
    missing: list[str]  # trace, tool_calls, evaluation


class RunsState(QuarantineState, total=False):
    mark: str  # the newest plausible started_at listed
    open: dict[str, OpenRun]
    done: dict[str, str]  # run id -> started_at
    awaiting: dict[str, AwaitingRun]


class SeenSession(TypedDict):
    last_event_at: str | None
    event_count: int | None


class SessionsState(QuarantineState, total=False):
    mark: str  # the newest plausible last_event_at read
    known: dict[str, SeenSession]
    unread: dict[str, str]  # session id -> when its trace first could not be read


class SourceState(TypedDict, total=False):
    coverage: list[dict[str, Any]]
    organization_id: str  # whose data this is: a key for another organization is refused
    organization_slug: str


def resource_state() -> Any:
    """This resource's state (annotate the variable with its shape)."""
    return dlt.current.resource_state()


def source_state() -> SourceState:
    """The source's own state, shared by its resources."""
    return cast(SourceState, dlt.current.source_state())
