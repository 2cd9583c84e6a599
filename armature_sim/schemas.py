"""OpenAPI 3.0 schemas generated from what the simulator declares once: the wire records
and envelopes (`armature_sim.records`, `armature_sim.envelopes`) and the request bodies (`armature_sim.http.bodies`).

A record's schema follows from its annotations, in the dialect asked for:

    class Span(TypedDict):                    {"type": "object", "required": [...],
        parent_id: str | None          ->      "properties": {"parent_id": {"type": "string",
        duration_ms: Count                        "nullable": true}, "duration_ms": {"type":
                                                  "integer", "minimum": 0}, ...}}

Member names are the dialect's (camelCase in `alt`), a list envelope's array goes under the
dialect's key and its unserved members are left out, exactly as `Dialect.listing` serves
them. Every object requires its non-`NotRequired` members and allows extra ones.
"""

from __future__ import annotations

import types
from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired, Required, Union, get_args, get_origin, get_type_hints

from armature_sim import envelopes as e
from armature_sim import records as r
from armature_sim.http.bodies import MAX_ITEMS, REQUEST_BODIES, Field
from armature_sim.http.dialect import Dialect
from armature_sim.wire_types import Bounds, Doc, Format, Listed, OneOf, Opaque, PageCap

Schema = dict[str, Any]

_SCALARS: dict[Any, Schema] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    datetime: {"type": "string", "format": "date-time"},
}
# the records and envelopes the document names as components, in its order; a record held
# by another is referenced if it is one of these, written out in place if not
COMPONENTS: tuple[type, ...] = (
    e.Error, e.OrgResponse, r.McpServer, r.McpServerDetail, e.McpServerList, r.Workflow, e.WorkflowList,
    r.Run, r.RunDetail, e.RunPage, r.Span, e.RunTrace, r.Evaluation, r.ToolCall, e.ToolCallList,
    r.Overview, r.Topic, r.TopicDetail, e.TopicList, r.FailedSearch, r.FailedSearchDetail,
    e.FailedSearchList, r.Session, e.SessionList, r.Event, e.SessionTrace, e.DispatchResponse,
    e.OkResponse,
)
_NAMES = {record: record.__name__ for record in COMPONENTS}


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def component_schemas(dialect: Dialect) -> dict[str, Schema]:
    """Every record the document names, by name, as `dialect` serves it, then the request bodies."""
    schemas = {name: record_schema(record, dialect) for record, name in _NAMES.items()}
    # request bodies are spelled as documented, whatever the dialect answers in
    schemas.update({name: request_schema(*declared) for name, declared in REQUEST_BODIES.items()})
    return schemas


def record_schema(record: type, dialect: Dialect) -> Schema:
    """The object schema of one record (a TypedDict)."""
    hints = get_type_hints(record, include_extras=True)
    listing = any(Listed() in _marks(hint) for hint in hints.values())
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for name, hint in hints.items():
        if listing and name in dialect.unserved:
            continue
        key = dialect.array_key(name) if Listed() in _marks(hint) else dialect.key(name)
        properties[key] = _member_schema(hint, dialect)
        if name in record.__required_keys__:  # type: ignore[attr-defined]
            required.append(key)
    schema: Schema = {"type": "object", "required": required, "properties": properties}
    if record.__doc__:
        schema["description"] = record.__doc__
    return schema


def _member_schema(hint: Any, dialect: Dialect) -> Schema:
    """The schema of one member, from its type and the `Annotated` marks on it."""
    core, marks, nullable = _unwrap(hint)
    schema = _type_schema(core, dialect)
    for mark in marks:
        if isinstance(mark, OneOf):
            schema["enum"] = list(mark.values)
        elif isinstance(mark, Format):
            schema["format"] = mark.name
        elif isinstance(mark, Bounds):
            schema.update({k: v for k, v in (("minimum", mark.minimum), ("maximum", mark.maximum)) if v is not None})
        elif isinstance(mark, PageCap):
            schema["maximum"] = dialect.page_cap
        elif isinstance(mark, Doc):
            schema["description"] = mark.text
    if nullable:
        assert "$ref" not in schema, f"{hint}: OpenAPI 3.0 cannot make a reference nullable"
        schema["nullable"] = True
    return schema


def _type_schema(core: Any, dialect: Dialect) -> Schema:
    """The schema of a bare type: a scalar, a list, open-ended JSON, a literal or a record."""
    if core in _SCALARS:
        return dict(_SCALARS[core])
    if core is Any:
        return {}
    if core == Opaque:
        return {"type": "object", "additionalProperties": True}
    origin = get_origin(core)
    if origin is list:
        (item,) = get_args(core)
        return {"type": "array", "items": _member_schema(item, dialect)}
    if origin is Literal:
        values = list(get_args(core))
        return {**_SCALARS[type(values[0])], "enum": values}
    if core in _NAMES:
        return ref(_NAMES[core])
    if isinstance(core, type) and issubclass(core, dict):
        return record_schema(core, dialect)
    raise TypeError(f"no schema for {core!r}")


def _unwrap(hint: Any) -> tuple[Any, list[object], bool]:
    """(bare type, `Annotated` marks, whether null is allowed) of a member's annotation."""
    marks: list[object] = []
    nullable = False
    while True:
        origin = get_origin(hint)
        if origin in (NotRequired, Required):
            (hint,) = get_args(hint)
        elif origin is Annotated:
            marks += hint.__metadata__
            hint = hint.__origin__
        elif origin in (Union, types.UnionType) and type(None) in get_args(hint):
            (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
            nullable = True
        else:
            return hint, marks, nullable


def _marks(hint: Any) -> list[object]:
    """The `Annotated` marks on a member."""
    return _unwrap(hint)[1]


def request_schema(fields: tuple[Field, ...], at_least_one: bool = False) -> Schema:
    """The OpenAPI 3.0 schema of a request body declared by `fields` (a closed object)."""
    schema = _body_schema(fields, "")
    if at_least_one:
        schema["minProperties"] = 1
    return schema


def _body_schema(fields: tuple[Field, ...], description: str) -> Schema:
    schema: Schema = {
        "type": "object",
        "properties": {field.name: _field_schema(field) for field in fields},
        "additionalProperties": False,
    }
    required = [field.name for field in fields if field.required]
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


def _field_schema(field: Field) -> Schema:
    if field.kind == "text":
        schema: Schema = {
            "type": "string", "minLength": 1, "maxLength": field.max_length, "pattern": field.pattern,
            "description": field.description,
        }
    elif field.kind == "choice":
        schema = {"type": "string", "enum": list(field.choices), "description": field.description}
    elif field.kind == "flag":
        schema = {"type": "boolean", "description": field.description}
    elif field.kind == "object":
        schema = {"type": "object", "additionalProperties": True, "description": field.description}
    elif field.kind == "list":
        assert field.items is not None
        schema = {
            "type": "array", "items": _field_schema(field.items), "minItems": field.min_items,
            "maxItems": MAX_ITEMS, "description": field.description,
        }
    else:
        schema = _body_schema(field.fields, field.description)
    if field.nullable:
        schema["nullable"] = True
    return schema
