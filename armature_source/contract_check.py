"""What the source needs from a host, checked against the host's live `/openapi` document.

`armature-pipeline check` runs this: it smoke-tests the key with `GET /org`, then reads the
host's OpenAPI 3.0 document and reports, in plain words, every difference between it and
what the source reads. A difference is *blocking* when the source cannot load the table at
all (a missing path, a missing key field); otherwise it is informational (a column stays
empty, a parameter the source sends is undocumented).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from armature_source.client import ArmatureClient
from armature_source.credentials import Connection
from armature_source.casing import snake
from armature_source.paging import ENVELOPE_KEYS
from armature_source import tables as t
from armature_source.vocabulary import API_PREFIX


@dataclass(frozen=True)
class Need:
    """One GET the source makes: its path, the query parameters it sends, the fields it reads."""

    path: str
    params: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    table: t.Table | None = None
    is_list: bool = True


NEEDS: tuple[Need, ...] = (
    Need("/org", is_list=False),
    Need("/mcp-servers", keys=("id",), table=t.MCP_SERVERS),
    Need("/mcp-servers/{}", is_list=False),
    Need("/workflows", keys=("id",), table=t.WORKFLOWS),
    Need("/runs", ("range", "sort", "page", "pageSize"), ("id", "status", "started_at"), t.RUNS),
    Need("/runs/{}", keys=("id", "status"), is_list=False),
    Need("/runs/{}/trace", keys=("id",), table=t.TRACE_SPANS),
    Need("/runs/{}/tool-calls", keys=("id",), table=t.TOOL_CALLS),
    Need("/runs/{}/evaluation", is_list=False, table=t.EVALUATIONS),
    Need("/insights/overview", ("range",), is_list=False),
    Need("/insights/topics", ("range", "limit", "sort"), ("id",), t.TOPICS),
    Need("/insights/searches", ("range", "limit"), ("id",), t.FAILED_SEARCHES),
    Need("/insights/sessions", ("range", "limit"), ("id", "last_event_at", "event_count"),
         t.SESSIONS),
    Need("/insights/sessions/{}/trace", keys=("event_id",), table=t.SESSION_EVENTS),
)
DERIVED_COLUMNS = {"run_id", "session_id", "topic_id", "failed_search_id", "snapshot_date",
                   "range", "counts_range", "tools", "current_version_id",
                   "current_version_number", "current_version_created_at"}


@dataclass
class Finding:
    blocking: bool
    text: str


def check_host(connection: Connection) -> int:
    """Print the key's organization and role and every contract difference; 0 if loadable."""
    with ArmatureClient(connection) as client:
        org = client.get("/org")
        organization, actor = org.get("organization") or {}, org.get("actor") or {}
        print(f"key accepted: organization {organization.get('name')!r} "
              f"({organization.get('slug')}), role {actor.get('role')}")
        try:
            document = httpx.get(f"{client.api_url}/openapi", timeout=30).json()
        except (httpx.HTTPError, ValueError) as exc:
            print(f"cannot read {client.api_url}/openapi ({type(exc).__name__}); "
                  "the contract check was skipped.")
            return 1
    findings = compare(document)
    if not findings:
        print("openapi: the host serves everything the source reads; no differences.")
        return 0
    for finding in findings:
        print(f"  {'BLOCKING' if finding.blocking else 'note    '}  {finding.text}")
    blocking = sum(f.blocking for f in findings)
    print(f"openapi: {len(findings)} difference(s), {blocking} blocking.")
    return 1 if blocking else 0


def compare(document: dict[str, Any]) -> list[Finding]:
    """Every difference between the OpenAPI document and NEEDS."""
    paths = {_shape(p): item for p, item in (document.get("paths") or {}).items()}
    findings: list[Finding] = []
    for need in NEEDS:
        operation = (paths.get(need.path) or {}).get("get")
        if operation is None:
            findings.append(Finding(True, f"GET {need.path} is not in the host's API."))
            continue
        findings += _compare_params(need, operation)
        schema = _response_schema(document, operation)
        if schema is not None:
            findings += _compare_fields(document, need, schema)
    return findings


def _shape(path: str) -> str:
    path = path.split(API_PREFIX, 1)[-1]
    return re.sub(r"\{[^}]+\}", "{}", path)


def _compare_params(need: Need, operation: dict[str, Any]) -> list[Finding]:
    documented = {p.get("name") for p in operation.get("parameters") or [] if p.get("in") == "query"}
    return [
        Finding(False, f"GET {need.path}: query parameter '{name}' is not documented; "
                       "the source sends it and relies on the host honouring it.")
        for name in need.params if name not in documented
    ]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {})
        schema = node
    return schema if isinstance(schema, dict) else {}


def _response_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    response = (operation.get("responses") or {}).get("200") or {}
    content = _resolve(document, response).get("content") or {}
    media: Any = content.get("application/json") or next(iter(content.values()), {})
    schema = media.get("schema") if isinstance(media, dict) else None
    return _resolve(document, schema) if schema else None


def _properties(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        props.update(_properties(document, _resolve(document, part)))
    return props


def _compare_fields(document: dict[str, Any], need: Need, schema: dict[str, Any]) -> list[Finding]:
    record: dict[str, Any] | None = schema
    if need.is_list:
        record = _list_item(document, schema)
        if record is None:
            return [Finding(True, f"GET {need.path}: the response has no array of records "
                                  f"(looked for a bare array or one of {list(ENVELOPE_KEYS)}).")]
    assert record is not None
    fields = {snake(name) for name in _properties(document, record)}
    if not fields:
        return []
    findings = [
        Finding(True, f"GET {need.path}: records lack '{key}', which the source keys on.")
        for key in need.keys if key not in fields
    ]
    if need.table is not None:
        findings += [
            Finding(False, f"GET {need.path}: records lack '{column}'; column "
                           f"{need.table.name}.{column} will stay empty.")
            for column in need.table.columns
            if column not in fields and column not in DERIVED_COLUMNS and column not in need.keys
        ]
    return findings


def _list_item(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    if schema.get("type") == "array":
        return _resolve(document, schema.get("items") or {})
    props = _properties(document, schema)
    arrays = {k: _resolve(document, v) for k, v in props.items()}
    arrays = {k: v for k, v in arrays.items() if v.get("type") == "array"}
    for key in (*ENVELOPE_KEYS, *arrays):
        if key in arrays:
            return _resolve(document, arrays[key].get("items") or {})
    return None
