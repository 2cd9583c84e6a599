"""The simulator's /openapi document: valid OpenAPI 3.0, and true to what the server does."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from armature_sim.openapi import build_openapi

DIALECTS = ["armature", "alt"]


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
