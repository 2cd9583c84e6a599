"""What the source reads from a host (`endpoints.ALL`), checked against the host's live `/openapi` document.

`armature-pipeline check` runs this: it smoke-tests the key with `GET /org`, then reads the
host's OpenAPI 3.0 document and reports, in plain words, every difference between it and
what the source reads. A difference is *blocking* when the source cannot load the table at
all (a missing path, a missing key field); otherwise it is informational (a column stays
empty, a parameter the source sends is undocumented). Whatever the host serves at `/openapi`
(not JSON, not an object, a `$ref` that loops), the check ends with findings, never a hang or
a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from armature_source import endpoints as api
from armature_source.contract.openapi import (
    Unreadable,
    list_item,
    obj,
    properties,
    query_parameters,
    resolve,
    response_schema,
)
from armature_source.credentials import Connection
from armature_source.endpoints import Endpoint
from armature_source.errors import ArmatureError, ConfigError
from armature_source.http.casing import snake
from armature_source.http.client import ArmatureClient, Missing, RetryPolicy
from armature_source.http.paging import ENVELOPE_KEYS
from armature_source.tables.table import EXTRA_COLUMN
from armature_source.vocabulary import API_PREFIX

DERIVED_COLUMNS = {"run_id", "session_id", "topic_id", "failed_search_id", "snapshot_date",
                   "range", "counts_range", "tools", "current_version_id",
                   "current_version_number", "current_version_created_at"}


# a check is interactive: a host that answers badly is reported within seconds, not minutes
CHECK_RETRY = RetryPolicy(max_attempts=3, backoff_base_s=0.5, budget_s=60.0)


@dataclass
class Finding:
    blocking: bool
    text: str


def check_host(connection: Connection) -> int:
    """Print the key's organization and role and every contract difference; 0 if loadable.

    Raises:
        ConfigError: the key is rejected or the host cannot be reached (exit 2).
    """
    with ArmatureClient(connection, retry=CHECK_RETRY) as client:
        try:
            org = obj(client.get(api.ORG.path()))
        except ConfigError:
            raise
        except ArmatureError as exc:
            print(f"  BLOCKING  {exc}")
            print("openapi: not checked; the key smoke test failed.")
            return 1
        organization, actor = obj(org.get("organization")), obj(org.get("actor"))
        print(f"key accepted: organization {organization.get('name')!r} "
              f"({organization.get('slug')}), role {actor.get('role')}")
        document, findings = _read_document(client)
    if document is not None:
        findings = compare(document)
    if not findings:
        print("openapi: the host serves everything the source reads; no differences.")
        return 0
    for finding in findings:
        print(f"  {'BLOCKING' if finding.blocking else 'note    '}  {finding.text}")
    blocking = sum(f.blocking for f in findings)
    print(f"openapi: {len(findings)} difference(s), {blocking} blocking.")
    return 1 if blocking else 0


def _read_document(client: ArmatureClient) -> tuple[Any, list[Finding]]:
    """The host's OpenAPI document with its keys as served, or why it cannot be had."""
    try:
        document = client.get("/openapi", missing_ok=True, keep_keys=True)
    except ArmatureError as exc:
        return None, [Finding(True, f"cannot read the host's OpenAPI document: {exc}")]
    if isinstance(document, Missing):
        return None, [Finding(True, "GET /openapi answered 404: the host publishes no OpenAPI "
                                    "document here, so the contract cannot be checked.")]
    return document, []


def compare(document: Any) -> list[Finding]:
    """Every difference between the OpenAPI document and what the source reads; any JSON value is accepted."""
    if not isinstance(document, dict):
        kind = "array" if isinstance(document, list) else type(document).__name__
        return [Finding(True, f"the /openapi answer is a JSON {kind}, not an OpenAPI document "
                              "(an object with 'paths').")]
    if not isinstance(document.get("paths"), dict):
        return [Finding(True, "the OpenAPI document has no 'paths' object; no endpoint can be checked.")]
    paths = {_shape(p): item for p, item in document["paths"].items() if isinstance(p, str)}
    findings: list[Finding] = []
    for need in api.ALL:
        try:
            findings += _compare_need(document, need, paths)
        except Unreadable as exc:
            findings.append(Finding(True, f"GET {need.template}: its description cannot be read: {exc}."))
    return findings


def _compare_need(document: dict[str, Any], need: Endpoint, paths: dict[str, Any]) -> list[Finding]:
    path_item = resolve(document, paths.get(need.template))
    if not isinstance(path_item.get("get"), dict):
        return [Finding(True, f"GET {need.template} is not in the host's API.")]
    operation = resolve(document, path_item["get"])
    documented = query_parameters(document, path_item, operation)
    findings = [
        Finding(False, f"GET {need.template}: query parameter '{name}' is not documented; "
                       "the source sends it and relies on the host honouring it.")
        for name in need.params if name not in documented
    ]
    schema = response_schema(document, operation)
    if schema is not None:
        findings += _compare_fields(document, need, schema)
    return findings


def _shape(path: str) -> str:
    path = path.split(API_PREFIX, 1)[-1]
    return re.sub(r"\{[^}]+\}", "{}", path)


def _compare_fields(document: dict[str, Any], need: Endpoint, schema: dict[str, Any]) -> list[Finding]:
    record: dict[str, Any] | None = schema
    if need.is_list:
        record = list_item(document, schema, ENVELOPE_KEYS)
        if record is None:
            return [Finding(True, f"GET {need.template}: the response has no array of records "
                                  f"(looked for a bare array or one of {list(ENVELOPE_KEYS)}).")]
    assert record is not None
    fields = {snake(name) for name in properties(document, record) if isinstance(name, str)}
    if not fields:
        return []
    findings = [
        Finding(True, f"GET {need.template}: records lack '{key}', which the source keys on.")
        for key in need.keys if key not in fields
    ]
    if need.table is not None:
        declared = set(need.table.columns) | DERIVED_COLUMNS | set(need.consumed)
        findings += [
            Finding(False, f"GET {need.template}: records carry '{name}', which no column of "
                           f"{need.table.name} declares; it is kept in {need.table.name}.extra_fields.")
            for name in sorted(fields - declared)
        ]
        findings += [
            Finding(False, f"GET {need.template}: records lack '{column}'; column "
                           f"{need.table.name}.{column} will stay empty.")
            for column in need.table.columns
            if column not in fields and column not in DERIVED_COLUMNS and column not in need.keys
            and column != EXTRA_COLUMN
        ]
    return findings
