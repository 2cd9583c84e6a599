"""The simulator's /openapi document: valid OpenAPI 3.0, and true to what the server does.

Schemathesis drives both dialect documents against the session's simulator (switched to the
dialect under test) and checks every response (status, content type, headers, body) against
the document. Reads go out with the viewer key, writes with the editor key.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from starlette.applications import Starlette
from starlette.routing import Route

from armature_sim.http.app import create_app
from armature_sim.openapi import API_PREFIX, build_openapi
from armature_sim.server import RunningSim
from armature_sim.vocabulary import SimOptions

DIALECTS = ["armature", "alt"]
EDITOR_KEY = "amt_editor_localsimulator"
MAX_EXAMPLES = 10
# Size parameters whose documented maximum the server caps silently instead of rejecting.
CAPPED = {"pageSize", "limit"}
# Body members that name another resource, and the path whose real id they take.
BODY_REFERENCES = {"mcpServerId": "/mcp-servers/{id}", "baselineRunId": "/runs/{id}"}


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
    unguarded = [
        (path, method)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security") == []
    ]
    assert unguarded == [("/openapi", "get")]


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation of a document by (path, method)."""
    return {(path, method): op for path, item in document["paths"].items() for method, op in item.items()}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_write_bodies_are_camel_case_except_the_topic_patch_in_both_dialects(dialect: str) -> None:
    """Request bodies are spelled as Armature documents them, whatever the dialect answers in."""
    document = build_openapi(dialect)
    assert {"name", "mcpServerId", "testerPrompt"} <= _properties(document, "WorkflowCreate")
    assert {"reason", "baselineRunId", "idempotencyKey", "forceNewRun"} == _properties(document, "WorkflowDispatch")
    assert {"name", "transportType", "baseUrl"} <= _properties(document, "McpServerCreate")
    assert _properties(document, "TopicUpdate") == {"label", "is_unmet_demand", "archived"}
    writes = {key: op for key, op in _operations(document).items() if key[1] != "get"}
    assert {key: next(iter(op["responses"])) for key, op in writes.items()} == {
        ("/mcp-servers", "post"): "201",
        ("/workflows", "post"): "201",
        ("/workflows/{id}", "patch"): "200",
        ("/workflows/{id}", "delete"): "200",
        ("/workflows/{id}/runs", "post"): "202",
        ("/insights/topics/{id}", "patch"): "200",
    }
    assert all({"400", "403"} <= set(op["responses"]) for key, op in writes.items() if key[1] != "delete")


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


# ---- against the running simulator ----


def _fuzzable(dialect: str) -> dict[str, Any]:
    """The dialect's document as schemathesis should fuzz it.

    The contract serves a too-large `pageSize` or `limit` at the cap instead of answering 400,
    so the maximum is dropped for request generation; responses are still held to it.
    """
    document = build_openapi(dialect)
    for operation in _operations(document).values():
        for parameter in operation.get("parameters", []):
            if parameter["name"] in CAPPED:
                parameter["schema"].pop("maximum")
    return document


def _schema(dialect: str) -> Any:
    """A bounded, reproducible schemathesis run over one dialect's document."""
    schema = schemathesis.openapi.from_dict(_fuzzable(dialect))
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES, deterministic=True, database="none", allow_extra_parameters=False
    )
    return schema


def _speaking(sim: RunningSim, dialect: str) -> RunningSim:
    """The freshly reset simulator, switched to `dialect` (same seed, so the same world)."""
    if dialect != "armature":
        sim.control.reset(dialect=dialect)
    return sim


def _auth(sim: RunningSim, method: str = "GET") -> dict[str, str]:
    """The bearer header: the simulator's viewer key to read, the editor key to write."""
    return {"Authorization": f"Bearer {sim.api_key if method.upper() == 'GET' else EDITOR_KEY}"}


def _array(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The one array member of a list envelope, whatever its key."""
    (rows,) = [value for value in body.values() if isinstance(value, list)]
    return rows


@pytest.fixture(scope="session")
def real_ids(sim_server: RunningSim) -> dict[str, str]:
    """A real id for every documented `{id}` path, from the start world each `sim` is reset to."""
    sim_server.control.reset()
    with httpx.Client(base_url=sim_server.api_url, headers=_auth(sim_server), timeout=30) as client:

        def first(path: str, **params: Any) -> str:
            response = client.get(path, params=params)
            response.raise_for_status()
            rows = _array(response.json())
            assert rows, f"GET {path} {params} listed nothing"
            return str(rows[0]["id"])

        run_id = first("/runs", range="30d")
        workflow_id = first("/workflows")
        return {
            "/mcp-servers/{id}": first("/mcp-servers"),
            "/workflows/{id}": workflow_id,
            "/workflows/{id}/runs": workflow_id,
            "/runs/{id}": run_id,
            "/runs/{id}/trace": run_id,
            "/runs/{id}/tool-calls": run_id,
            "/runs/{id}/evaluation": first("/runs", range="30d", status="pass"),
            "/insights/topics/{id}": first("/insights/topics", range="90d"),
            "/insights/searches/{id}": first("/insights/searches", range="90d"),
            "/insights/sessions/{id}/trace": first("/insights/sessions", range="90d"),
        }


ARMATURE_DOCUMENT = _schema("armature")
ALT_DOCUMENT = _schema("alt")
# `sim` is reset once per operation, not per generated input. Reads cannot disturb each other;
# the writes of one operation only ever create, edit or archive, so a real id stays valid.
SIM_PER_OPERATION = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def alt_sim(sim: RunningSim) -> RunningSim:
    """The freshly reset simulator speaking the alt dialect."""
    return _speaking(sim, "alt")


def _call_and_validate(case: Any, served: RunningSim, real_ids: dict[str, str]) -> None:
    """Send a generated request with the key and check the answer; `{id}` paths also with a real id.

    A valid body naming another resource gets a real id first: a made-up one is rightly a 400.
    """
    options = {"base_url": served.api_url, "headers": _auth(served, case.method)}
    positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and isinstance(case.body, dict):
        for name, path in BODY_REFERENCES.items():
            if name in case.body:
                case.body[name] = real_ids[path]
    case.call_and_validate(**options)
    real_id = real_ids.get(case.operation.path)
    # a made-up id only ever reaches the 404 branch; a real one exercises the record schema
    if real_id is not None and positive:
        case.path_parameters = {"id": real_id}
        case.call_and_validate(**options)


@ARMATURE_DOCUMENT.parametrize()
@SIM_PER_OPERATION
def test_armature_responses_conform_to_the_document(
    case: Any, sim: RunningSim, real_ids: dict[str, str]
) -> None:
    """Every generated request gets an answer the armature document allows."""
    _call_and_validate(case, sim, real_ids)


@ALT_DOCUMENT.parametrize()
@SIM_PER_OPERATION
def test_alt_responses_conform_to_the_document(
    case: Any, alt_sim: RunningSim, real_ids: dict[str, str]
) -> None:
    """Every generated request gets an answer the alt document allows."""
    _call_and_validate(case, alt_sim, real_ids)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_served_document_is_the_built_one_and_needs_no_key(sim: RunningSim, dialect: str) -> None:
    """GET /openapi answers without a key with this dialect's document."""
    response = httpx.get(f"{_speaking(sim, dialect).api_url}/openapi", timeout=30)
    assert response.status_code == 200
    assert response.json() == build_openapi(dialect)


def test_documented_operations_are_exactly_the_served_routes() -> None:
    """The app's API routes and methods and the document's operations are the same set."""
    app = create_app(SimOptions(runs=10, sessions=10)).app
    assert isinstance(app, Starlette)
    routes = {
        (route.path.removeprefix(API_PREFIX), method.lower())
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith(API_PREFIX)
        for method in route.methods or ()
        if method != "HEAD"
    }
    for dialect in DIALECTS:
        assert set(_operations(build_openapi(dialect))) == routes


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_documented_path_answers_for_a_real_id(
    sim: RunningSim, real_ids: dict[str, str], dialect: str
) -> None:
    """Each documented read, with ids taken from list responses, answers 200."""
    served = _speaking(sim, dialect)
    answers = {}
    with httpx.Client(base_url=served.api_url, headers=_auth(served), timeout=30) as client:
        for path, item in build_openapi(dialect)["paths"].items():
            if "get" in item:
                answers[path] = client.get(path.replace("{id}", real_ids.get(path, ""))).status_code
    assert answers == dict.fromkeys(answers, 200)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_undocumented_paths_answer_404_not_found(
    sim: RunningSim, real_ids: dict[str, str], dialect: str
) -> None:
    """Paths the document does not name are not served, even next to documented ones."""
    served = _speaking(sim, dialect)
    undocumented = [
        "/no-such-resource",
        "/openapi.json",
        f"/insights/sessions/{real_ids['/insights/sessions/{id}/trace']}",
        f"/runs/{real_ids['/runs/{id}']}/spans",
        f"/workflows/{real_ids['/workflows/{id}']}/versions",
    ]
    with httpx.Client(base_url=served.api_url, headers=_auth(served), timeout=30) as client:
        answers = {path: client.get(path) for path in undocumented}
    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(undocumented, 404)
    assert {r.json()["error"]["code"] for r in answers.values()} == {"not_found"}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_too_large_page_size_is_served_at_the_documented_cap(sim: RunningSim, dialect: str) -> None:
    """`pageSize` above the document's maximum is served at the maximum, not refused."""
    served = _speaking(sim, dialect)
    parameters = build_openapi(dialect)["paths"]["/runs"]["get"]["parameters"]
    (page_size,) = [p for p in parameters if p["name"] == "pageSize"]
    cap = page_size["schema"]["maximum"]
    params = {"range": "30d", "pageSize": cap * 3}
    response = httpx.get(f"{served.api_url}/runs", params=params, headers=_auth(served), timeout=30)
    assert response.status_code == 200
    assert response.json()["pageSize"] == cap
    assert len(_array(response.json())) == cap


def test_unknown_method_answer_names_the_allowed_one(sim: RunningSim) -> None:
    """A method a path does not serve answers 405 with `Allow: GET`."""
    response = httpx.request("TRACE", f"{sim.api_url}/runs", headers=_auth(sim), timeout=30)
    assert response.status_code == 405
    assert "GET" in response.headers.get("allow", "")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_405_names_every_documented_method_of_the_path(
    sim: RunningSim, real_ids: dict[str, str], dialect: str
) -> None:
    """`Allow` on a 405 lists exactly the path's documented methods (and HEAD beside GET)."""
    served = _speaking(sim, dialect)
    allowed = {}
    expected = {}
    for path, item in build_openapi(dialect)["paths"].items():
        url = f"{served.api_url}{path.replace('{id}', real_ids.get(path, ''))}"
        response = httpx.request("PUT", url, headers=_auth(served, "PUT"), timeout=30)
        allowed[path] = {m.strip() for m in response.headers.get("allow", "").split(",")}
        expected[path] = {m.upper() for m in item} | ({"HEAD"} if "get" in item else set())
    assert allowed == expected
