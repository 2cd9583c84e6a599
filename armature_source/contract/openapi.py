"""Reading a host's OpenAPI document, which may be anything: every step checks what it finds.

A document comes from the host, so it may be cyclic (`$ref` chains that loop, an `allOf`
that includes itself), point outside itself, or hold a string where an object belongs.
Navigation here never loops and never raises anything but `Unreadable`, whose message says
in plain words what could not be read; `contract_check` turns that into a finding.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 32  # allOf / $ref chains deeper than this are taken for loops
MAX_VISITS = 10_000  # allOf parts visited for one schema: a wide lattice is refused, not walked


class Unreadable(Exception):
    """A part of the document cannot be read; the message says which and why."""


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def resolve(document: dict[str, Any], node: Any) -> dict[str, Any]:
    """`node` with its `$ref` chain followed to the end; {} for what is not an object.

    Raises:
        Unreadable: a `$ref` loops, points outside the document, or at nothing.
    """
    seen: list[str] = []
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str):
            raise Unreadable(f"a $ref is {type(ref).__name__}, not a string")
        if ref in seen or len(seen) >= MAX_DEPTH:
            loop = " -> ".join([*seen, ref])
            raise Unreadable(f"the $ref chain {loop} loops back on itself")
        seen.append(ref)
        node = _pointer(document, ref)
    return obj(node)


def _pointer(document: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise Unreadable(f"the $ref {ref!r} points outside the document")
    node: Any = document
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise Unreadable(f"the $ref {ref!r} points at nothing in the document")
    return node


def properties(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The properties of an object schema, `allOf` parts included.

    Raises:
        Unreadable: the `allOf` parts include each other in a loop, or nest past reason.
    """
    return _properties(document, schema, frozenset(), [MAX_VISITS])


def _properties(document: dict[str, Any], schema: dict[str, Any], path: frozenset[int],
                budget: list[int]) -> dict[str, Any]:
    budget[0] -= 1
    if id(schema) in path or len(path) > MAX_DEPTH:
        raise Unreadable("the schema's allOf parts include each other in a loop")
    if budget[0] < 0:
        raise Unreadable(f"the schema's allOf parts nest more than {MAX_VISITS} times")
    props: dict[str, Any] = dict(obj(schema.get("properties")))
    for part in items(schema.get("allOf")):
        props.update(_properties(document, resolve(document, part), path | {id(schema)}, budget))
    return props


def list_item(document: dict[str, Any], schema: dict[str, Any],
              envelope_keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The record schema of a list response: a bare array, or the array under one of
    `envelope_keys` or any array property; None if the response holds no array."""
    if schema.get("type") == "array":
        return resolve(document, schema.get("items"))
    arrays = {}
    for key, value in properties(document, schema).items():
        resolved = resolve(document, value)
        if resolved.get("type") == "array":
            arrays[key] = resolved
    for key in (*envelope_keys, *arrays):
        if key in arrays:
            return resolve(document, arrays[key].get("items"))
    return None


def response_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of an operation's 200 answer (JSON first), or None if it has none."""
    response = resolve(document, obj(operation.get("responses")).get("200"))
    content = obj(response.get("content"))
    media = content.get("application/json") or next(iter(content.values()), None)
    schema = obj(media).get("schema")
    return resolve(document, schema) if schema else None


def query_parameters(document: dict[str, Any], path_item: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """Names of the query parameters documented for an operation (path-level ones too)."""
    names = set()
    for raw in [*items(path_item.get("parameters")), *items(operation.get("parameters"))]:
        parameter = resolve(document, raw)
        if parameter.get("in") == "query" and isinstance(parameter.get("name"), str):
            names.add(parameter["name"])
    return names
