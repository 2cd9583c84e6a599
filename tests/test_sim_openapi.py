"""The simulator's /openapi document: valid OpenAPI 3.0, and true to what the server does.

Schemathesis drives both dialect documents against two small simulators, one per dialect,
and checks every response (status, content type, headers, body) against the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from starlette.routing import Route

from armature_sim.app import SimOptions, create_app
from armature_sim.openapi import API_PREFIX, build_openapi

DIALECTS = ["armature", "alt"]
MAX_EXAMPLES = 10
# Size parameters whose documented maximum the server caps silently instead of rejecting.
CAPPED = {"pageSize", "limit"}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_document_is_valid_openapi_3(dialect: str) -> None:
    """Both dialect documents pass the OpenAPI 3.0 validator."""
    document = build_openapi(dialect)
    assert document["openapi"].startswith("3.0.")
    validate(document)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_operation_but_openapi_needs_the_bearer_key(dialect: str) -> None:
    """The bearer scheme guards every path except the document itself."""
    document = build_openapi(dialect)
    assert document["security"] == [{"bearerAuth": []}]
    unguarded = [path for path, item in document["paths"].items() if item["get"].get("security") == []]
    assert unguarded == ["/openapi"]


def _properties(document: dict[str, Any], name: str) -> set[str]:
    """Return the property names of a component schema."""
    return set(document["components"]["schemas"][name]["properties"])


def test_alt_dialect_is_camel_case_with_arrays_under_data() -> None:
    """The alt document renames keys, moves arrays to `data` and drops the runs total."""
    armature, alt = build_openapi("armature"), build_openapi("alt")
    assert {"workflow_id", "started_at"} <= _properties(armature, "Run")
    assert {"workflowId", "startedAt"} <= _properties(alt, "Run")
    assert _properties(armature, "RunPage") == {"rows", "page", "pageSize", "total"}
    assert _properties(alt, "RunPage") == {"data", "page", "pageSize"}
    assert _properties(armature, "SessionList") == {"sessions"}
    assert _properties(alt, "SessionList") == {"data"}
    assert _properties(armature, "SessionTrace") == {"session_id", "events"}
    assert _properties(alt, "SessionTrace") == {"sessionId", "data"}
    assert _properties(alt, "RunTrace") == {"runId", "spans"}
    assert _properties(alt, "OrgResponse") == _properties(armature, "OrgResponse")


@pytest.mark.parametrize(("dialect", "cap"), [("armature", 100), ("alt", 50)])
def test_page_size_cap_follows_the_dialect(dialect: str, cap: int) -> None:
    """`pageSize` on /runs is capped at 100, or 50 in the alt dialect."""
    parameters = build_openapi(dialect)["paths"]["/runs"]["get"]["parameters"]
    (page_size,) = [p for p in parameters if p["name"] == "pageSize"]
    assert page_size["schema"]["maximum"] == cap


def test_document_is_cached_but_callers_get_their_own_copy() -> None:
    """Mutating one returned document does not leak into the next."""
    first = build_openapi()
    first["paths"].clear()
    assert build_openapi()["paths"]



# ---- against running simulators ----


def _fuzzable(dialect: str) -> dict[str, Any]:
    """The dialect's document as schemathesis should fuzz it.

    The contract serves a too-large `pageSize` or `limit` at the cap instead of answering 400,
    so the maximum is dropped for request generation; responses are still held to it.
    """
    document = build_openapi(dialect)
    for item in document["paths"].values():
        for parameter in item["get"].get("parameters", []):
            if parameter["name"] in CAPPED:
                parameter["schema"].pop("maximum")
    document["info"]["x-dialect"] = dialect
    return document


def _schema(dialect: str) -> Any:
    """A bounded, reproducible schemathesis run over one dialect's document."""
    schema = schemathesis.openapi.from_dict(_fuzzable(dialect))
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES, deterministic=True, database="none", allow_extra_parameters=False
    )
    # The server answers unknown methods 405 without the `Allow` header RFC 9110 asks for;
    # test_unknown_method_answer_names_the_allowed_one tracks that.
    schema.config.checks.update(excluded_check_names=["unsupported_method"])
    return schema


def _auth(sim: Any) -> dict[str, str]:
    """The bearer header for the simulator's key."""
    return {"Authorization": f"Bearer {sim.api_key}"}


def _array(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The one array member of a list envelope, whatever its key."""
    (rows,) = [value for value in body.values() if isinstance(value, list)]
    return rows


def _valid_ids(sim: Any) -> dict[str, str]:
    """A real id for every documented path with `{id}`, taken from list responses."""
    with httpx.Client(base_url=sim.api_url, headers=_auth(sim), timeout=30) as client:

        def first(path: str, **params: Any) -> str:
            response = client.get(path, params=params)
            response.raise_for_status()
            rows = _array(response.json())
            assert rows, f"GET {path} {params} listed nothing"
            return str(rows[0]["id"])

        run_id = first("/runs", range="30d")
        return {
            "/mcp-servers/{id}": first("/mcp-servers"),
            "/workflows/{id}": first("/workflows"),
            "/runs/{id}": run_id,
            "/runs/{id}/trace": run_id,
            "/runs/{id}/tool-calls": run_id,
            "/runs/{id}/evaluation": first("/runs", range="30d", status="pass"),
            "/insights/topics/{id}": first("/insights/topics", range="90d"),
            "/insights/searches/{id}": first("/insights/searches", range="90d"),
            "/insights/sessions/{id}/trace": first("/insights/sessions", range="90d"),
        }


class Live:
    """A running simulator of one dialect and a real id for each `{id}` path."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.ids = _valid_ids(sim)


@pytest.fixture(scope="module")
def live() -> Iterator[dict[str, Live]]:
    """Two small simulators, one per dialect, shared by this module's tests."""
    from armature_sim.server import spawn

    sims = [spawn(seed=11, runs=400, sessions=300, dialect=dialect) for dialect in DIALECTS]
    try:
        yield {dialect: Live(sim) for dialect, sim in zip(DIALECTS, sims, strict=True)}
    finally:
        for sim in sims:
            sim.stop()


@schemathesis.pytest.parametrize(**{dialect: _schema(dialect) for dialect in DIALECTS})
def test_server_responses_conform_to_the_document(case: Any, live: dict[str, Live]) -> None:
    """Every generated request gets an answer the document allows; detail paths also with a real id."""
    target = live[case.operation.schema.raw_schema["info"]["x-dialect"]]
    options = {"base_url": target.sim.api_url, "headers": _auth(target.sim)}
    case.call_and_validate(**options)
    real_id = target.ids.get(case.operation.path)
    # a made-up id only ever reaches the 404 branch; a real one exercises the record schema
    if real_id is not None and case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
        case.path_parameters = {"id": real_id}
        case.call_and_validate(**options)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_served_document_is_the_built_one_and_needs_no_key(live: dict[str, Live], dialect: str) -> None:
    """GET /openapi answers without a key with this dialect's document."""
    response = httpx.get(f"{live[dialect].sim.api_url}/openapi", timeout=30)
    assert response.status_code == 200
    assert response.json() == build_openapi(dialect)


def test_documented_paths_are_exactly_the_served_routes() -> None:
    """The app's API routes and the document's paths are the same set."""
    app = create_app(SimOptions(runs=10, sessions=10)).app
    routes = {
        route.path.removeprefix(API_PREFIX)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith(API_PREFIX)
    }
    for dialect in DIALECTS:
        assert set(build_openapi(dialect)["paths"]) == routes


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_documented_path_answers_for_a_real_id(live: dict[str, Live], dialect: str) -> None:
    """Each documented path, with ids taken from list responses, answers 200."""
    target = live[dialect]
    answers = {}
    with httpx.Client(base_url=target.sim.api_url, headers=_auth(target.sim), timeout=30) as client:
        for path in build_openapi(dialect)["paths"]:
            url = path.replace("{id}", target.ids[path]) if "{id}" in path else path
            answers[path] = client.get(url).status_code
    assert answers == dict.fromkeys(answers, 200)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_undocumented_paths_answer_404_not_found(live: dict[str, Live], dialect: str) -> None:
    """Paths the document does not name are not served, even next to documented ones."""
    target = live[dialect]
    session_id = target.ids["/insights/sessions/{id}/trace"]
    run_id = target.ids["/runs/{id}"]
    undocumented = [
        "/no-such-resource",
        f"/insights/sessions/{session_id}",
        f"/runs/{run_id}/spans",
        f"/workflows/{target.ids['/workflows/{id}']}/runs",
        "/openapi.json",
    ]
    with httpx.Client(base_url=target.sim.api_url, headers=_auth(target.sim), timeout=30) as client:
        for path in undocumented:
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found", path


@pytest.mark.parametrize(("dialect", "cap"), [("armature", 100), ("alt", 50)])
def test_too_large_page_size_is_served_at_the_documented_cap(
    live: dict[str, Live], dialect: str, cap: int
) -> None:
    """`pageSize` above the document's maximum is served at the maximum, not refused."""
    sim = live[dialect].sim
    documented = build_openapi(dialect)["paths"]["/runs"]["get"]["parameters"]
    (page_size,) = [p for p in documented if p["name"] == "pageSize"]
    assert page_size["schema"]["maximum"] == cap
    response = httpx.get(
        f"{sim.api_url}/runs", params={"range": "30d", "pageSize": cap * 3}, headers=_auth(sim), timeout=30
    )
    assert response.status_code == 200
    assert response.json()["pageSize"] == cap
    assert len(_array(response.json())) == cap


@pytest.mark.xfail(strict=True, reason="the simulator's 405 answer drops the Allow header (RFC 9110)")
def test_unknown_method_answer_names_the_allowed_one(live: dict[str, Live]) -> None:
    """A method a path does not serve answers 405 with `Allow: GET`."""
    sim = live["armature"].sim
    response = httpx.request("TRACE", f"{sim.api_url}/runs", headers=_auth(sim), timeout=30)
    assert response.status_code == 405
    assert "GET" in response.headers.get("allow", "")
