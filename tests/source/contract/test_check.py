"""`check` survives any document a host serves at /openapi: a cyclic $ref, a missing path, a
body that is not JSON or not an object. Each gives a finding in plain words, check_host
returns non-zero, and nothing hangs or raises."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armature_source.contract.check import check_host, compare
from armature_source.credentials import Connection
from tests.support.hostile_server import KEY, HostileServer, json_body, respond

ORG = {"organization": {"id": "o1", "slug": "acme", "name": "Acme"}, "actor": {"role": "viewer"}}


@pytest.fixture(scope="module")
def sim_document(sim_server: Any) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{sim_server.api_url}/openapi").json()
    return document


def run_check(hostile: HostileServer, openapi: Any, capsys: Any) -> tuple[int, str]:
    hostile.route("/org$", json_body(ORG))
    hostile.route("/openapi$", openapi)
    started = time.monotonic()
    code = check_host(Connection.checked(hostile.api_url, KEY))
    assert time.monotonic() - started < 60
    out: str = capsys.readouterr().out
    assert "Traceback" not in out and KEY not in out
    return code, out


def cyclic(document: dict[str, Any], how: str) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    schemas = broken["components"]["schemas"]
    name = next(iter(schemas))
    if how == "self":
        schemas[name] = {"$ref": f"#/components/schemas/{name}"}
    elif how == "loop":
        schemas[name] = {"$ref": "#/components/schemas/Loop1"}
        schemas["Loop1"] = {"$ref": "#/components/schemas/Loop2"}
        schemas["Loop2"] = {"$ref": f"#/components/schemas/{name}"}
    else:  # an allOf that includes itself
        schemas[name] = {"allOf": [{"$ref": f"#/components/schemas/{name}"}, {"properties": {"id": {}}}]}
    # every 200 answer is that schema, so each need meets the loop
    for item in broken["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"]["200"] = {"description": "x", "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
    return broken


@pytest.mark.parametrize("how", ["self", "loop", "allOf"])
def test_a_cyclic_ref_is_a_finding_not_a_hang(hostile: HostileServer, sim_document: dict[str, Any],
                                              how: str, capsys: Any) -> None:
    code, out = run_check(hostile, json_body(cyclic(sim_document, how)), capsys)
    assert code == 1
    assert "loops back on itself" in out or "include each other in a loop" in out, out
    assert "BLOCKING  GET /runs: its description cannot be read" in out


def test_a_missing_path_is_a_blocking_finding(hostile: HostileServer, sim_document: dict[str, Any],
                                              capsys: Any) -> None:
    broken = copy.deepcopy(sim_document)
    broken["paths"] = {p: v for p, v in broken["paths"].items() if not p.endswith("/tool-calls")}
    code, out = run_check(hostile, json_body(broken), capsys)
    assert code == 1
    assert "BLOCKING  GET /runs/{}/tool-calls is not in the host's API." in out


@pytest.mark.parametrize("openapi, expected", [
    (respond(b"<html>maintenance</html>", content_type="text/html"), "not valid JSON"),
    (respond(b'{"openapi": "3.0.3", "paths": {'), "not valid JSON"),
    (json_body([1, 2, 3]), "the /openapi answer is a JSON array, not an OpenAPI document"),
    (json_body({"openapi": "3.0.3"}), "has no 'paths' object"),
    (json_body({"error": {"code": "not_found", "message": "no"}}, status=404), "GET /openapi answered 404"),
    (respond(b"null"), "GET /openapi answered null"),
])
def test_a_document_that_is_not_one_is_a_finding(hostile: HostileServer, openapi: Any,
                                                 expected: str, capsys: Any) -> None:
    code, out = run_check(hostile, openapi, capsys)
    assert code == 1
    assert "key accepted: organization 'Acme' (acme), role viewer" in out
    assert expected in out, out


def test_the_simulators_document_still_has_no_differences(hostile: HostileServer,
                                                          sim_document: dict[str, Any], capsys: Any) -> None:
    code, out = run_check(hostile, json_body(sim_document), capsys)
    assert code == 0 and "no differences" in out


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["#/components/schemas/A", "#/paths", "#/", "#/x~1y", "other.yaml#/A"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["paths", "get", "$ref", "allOf", "properties", "items", "type", "responses",
                         "200", "content", "application/json", "schema", "parameters", "in",
                         "name", "components", "schemas", "A", "/runs", "/org", "array"]),
        inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_compare_takes_any_json_value_without_raising(document: Any) -> None:
    findings = compare(document)
    assert all(isinstance(f.text, str) for f in findings)
    json.dumps([f.text for f in findings])
