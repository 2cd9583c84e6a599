"""What Armature's write operations accept: each JSON body checked, then turned into a draft.

FACTS.md section 4 documents the bodies: camelCase for MCP sources, workflows and dispatches,
snake_case for the topic PATCH. Each body is declared once, as a tuple of `Field`s; the same
declaration checks a request here and becomes its request schema in the OpenAPI document
(`armature_sim.schemas`), so the two cannot drift apart. A body is a closed object: an
unknown member is refused, naming it.

A refusal is a `400 validation_failed` with `details.field` set to the path of the bad
member, e.g. `criteria[1].criterionText`. The drafts it builds are the world's
(`armature_sim.world.edits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from armature_sim import records
from armature_sim.http.errors import invalid
from armature_sim.vocabulary import LISTED_ENVIRONMENT, SETTABLE_WORKFLOW_STATES, TARGET_KINDS, TRANSPORTS
from armature_sim.world.edits import DispatchDraft, ServerDraft, TopicChanges, WorkflowChanges

# JSON Schema patterns are searched, not matched, in the OpenAPI document and here alike
NOT_BLANK = r"\S"
HTTPS_URL = r"^https://[^\s/?#]+"
# separators named: Python's \s also counts \x1c-\x1f and \x85, JSON Schema's (JavaScript's)
# does not, so with \s the document and the check would disagree on what a valid cron is
FIVE_FIELD_CRON = r"^[ \t]*[^ \t\n]+([ \t]+[^ \t\n]+){4}[ \t]*$"
MAX_ITEMS = 20


@dataclass(frozen=True)
class Field:
    """One member of a request body.

    `kind` is `text` (a string with a non-blank character, or `pattern`), `choice` (one of
    `choices`), `flag` (a boolean), `object` (any JSON object), `list` (of `items`) or `record`
    (a closed object of `fields`).
    """

    name: str
    kind: str
    description: str
    required: bool = False
    nullable: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = NOT_BLANK
    max_length: int = 200
    items: Field | None = None
    fields: tuple[Field, ...] = ()
    min_items: int = 0


_CRITERION = Field("criterion", "record", "A criterion the judge checks.", fields=(
    Field("criterionText", "text", "What the judge checks.", required=True, max_length=1000),
    Field("isRequired", "flag", "Whether failing it fails the run (default false)."),
))
_TESTER_TARGET = Field("target", "record", "A tester model with its skill settings.", fields=(
    Field("modelId", "text", "Tester model id.", required=True),
    Field("skillMode", "text", "Skill mode."),
    Field("skillVersionId", "text", "Skill version id."),
))
_SCHEDULE = Field(
    "schedule", "record", "Five-field cron and its time zone; null or absent means manual-only.",
    nullable=True, fields=(
        Field("cron", "text", "Five-field cron, e.g. `*/30 * * * *`.", required=True,
              pattern=FIVE_FIELD_CRON, max_length=100),
        Field("timezone", "text", "IANA time zone (default UTC).", max_length=64),
    ),
)
_POLICIES = tuple(
    Field(name, "object", f"Execution policy override ({name}); kept as given.")
    for name in ("limits", "retryPolicy", "toolPolicy", "metadata")
)
_WORKFLOW_SETTINGS = (
    Field("description", "text", "What the workflow checks.", max_length=2000),
    Field("defaultMcpAuthProfileId", "text", "Default auth profile of the MCP source."),
    Field("testerModelId", "text", "A single tester model."),
    Field("testerModelIds", "list", "Tester models to fan out across.", min_items=1,
          items=Field("modelId", "text", "Tester model id.")),
    Field("testerTargets", "list", "Tester models with skill settings.", min_items=1, items=_TESTER_TARGET),
    Field("criteria", "list", "Criteria the judge checks, in order.", items=_CRITERION),
    _SCHEDULE,
    *_POLICIES,
)

MCP_SERVER_CREATE = (
    Field("name", "text", "Display name.", required=True),
    Field("transportType", "choice", f"Transport (default {TRANSPORTS[0]}).", choices=TRANSPORTS),
    Field("targetKind", "choice", f"Target kind (default {TARGET_KINDS[0]}).", choices=TARGET_KINDS),
    Field("baseUrl", "text", "Endpoint URL for HTTP and SSE transports; https only.",
          pattern=HTTPS_URL, max_length=2000),
    Field("connectionConfig", "object", "Transport-specific settings; kept as given."),
    Field("networkPolicy", "object", "Network policy for hosted or CLI targets; kept as given."),
    Field("authProfile", "object", "Default auth profile created with the source; never echoed."),
    Field("environment", "text", f"Environment (default {LISTED_ENVIRONMENT}); only {LISTED_ENVIRONMENT} is listed.",
          max_length=64),
)
WORKFLOW_CREATE = (
    Field("name", "text", "Display name.", required=True),
    Field("mcpServerId", "text", "The MCP source the workflow tests.", required=True),
    Field("testerPrompt", "text", "The tester agent's task.", required=True, max_length=20_000),
    *_WORKFLOW_SETTINGS,
)
WORKFLOW_UPDATE = (
    Field("name", "text", "Display name."),
    Field("mcpServerId", "text", "The MCP source the workflow tests."),
    Field("testerPrompt", "text", "The tester agent's task.", max_length=20_000),
    Field("state", "choice", "Pause or resume the workflow (archive it with DELETE).",
          choices=SETTABLE_WORKFLOW_STATES),
    *_WORKFLOW_SETTINGS,
)
WORKFLOW_DISPATCH = (
    Field("reason", "text", "Label shown with the run; whitespace is collapsed.", max_length=500),
    Field("baselineRunId", "text", "A run to compare this one against."),
    Field("idempotencyKey", "text",
          "Dedups retries: the same key returns the same run until it is terminal.", max_length=255),
    Field("forceNewRun", "flag", "Start a new run even if the key's run is still in progress."),
)
TOPIC_UPDATE = (
    Field("label", "text", "New display label."),
    Field("is_unmet_demand", "flag", "Flag or unflag the topic as unmet demand."),
    Field("archived", "flag", "Archive or unarchive the topic."),
)
# name in the OpenAPI components -> (fields, at least one member)
REQUEST_BODIES: dict[str, tuple[tuple[Field, ...], bool]] = {
    "McpServerCreate": (MCP_SERVER_CREATE, False),
    "WorkflowCreate": (WORKFLOW_CREATE, False),
    "WorkflowUpdate": (WORKFLOW_UPDATE, True),
    "WorkflowDispatch": (WORKFLOW_DISPATCH, False),
    "TopicUpdate": (TOPIC_UPDATE, True),
}


def server_draft(body: dict[str, Any]) -> ServerDraft:
    """Check a `POST /mcp-servers` body."""
    given = checked(body, MCP_SERVER_CREATE)
    return ServerDraft(
        name=given["name"].strip(),
        transport_type=given.get("transportType", TRANSPORTS[0]),
        target_kind=given.get("targetKind", TARGET_KINDS[0]),
        base_url=given.get("baseUrl"),
        environment=given.get("environment", LISTED_ENVIRONMENT).strip(),
    )


def workflow_draft(body: dict[str, Any]) -> WorkflowChanges:
    """Check a `POST /workflows` body."""
    return _workflow_changes(checked(body, WORKFLOW_CREATE))


def workflow_changes(body: dict[str, Any]) -> WorkflowChanges:
    """Check a `PATCH /workflows/{id}` body; `schedule: null` makes the workflow manual-only."""
    return _workflow_changes(checked(body, WORKFLOW_UPDATE, at_least_one=True))


def dispatch_draft(body: dict[str, Any]) -> DispatchDraft:
    """Check a `POST /workflows/{id}/runs` body (every member is optional)."""
    given = checked(body, WORKFLOW_DISPATCH)
    reason = given.get("reason")
    return DispatchDraft(
        reason=" ".join(reason.split()) if reason is not None else None,
        baseline_run_id=given.get("baselineRunId"),
        idempotency_key=given.get("idempotencyKey"),
        force_new_run=given.get("forceNewRun", False),
    )


def topic_changes(body: dict[str, Any]) -> TopicChanges:
    """Check a `PATCH /insights/topics/{id}` body (snake_case, as Armature documents it)."""
    given = checked(body, TOPIC_UPDATE, at_least_one=True)
    changes = cast(TopicChanges, _present(given, {"is_unmet_demand": "is_unmet_demand", "archived": "archived"}))
    if "label" in given:
        changes["label"] = given["label"].strip()
    return changes


def _workflow_changes(given: dict[str, Any]) -> WorkflowChanges:
    """What a checked workflow body sets, under the world's names."""
    renamed = {"description": "description", "testerPrompt": "tester_prompt", "mcpServerId": "mcp_server_id",
               "state": "state"}
    changes = cast(WorkflowChanges, _present(given, renamed))
    if "name" in given:
        changes["name"] = given["name"].strip()
    if models := _tester_models(given):
        changes["tester_model_ids"] = models
    if "criteria" in given:
        changes["criteria"] = _criteria(given["criteria"])
    if "schedule" in given:
        changes["schedule"] = _schedule(given["schedule"])
    return changes


def _present(given: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    """The members of `given` taken as they are, under the world's names."""
    return {to: given[name] for name, to in renamed.items() if name in given}


def _tester_models(given: dict[str, Any]) -> tuple[str, ...]:
    """Every tester model named by testerModelId, testerModelIds and testerTargets, once each."""
    named = [given["testerModelId"]] if "testerModelId" in given else []
    named += given.get("testerModelIds", [])
    named += [target["modelId"] for target in given.get("testerTargets", [])]
    return tuple(dict.fromkeys(name.strip() for name in named))


def _criteria(items: list[dict[str, Any]]) -> tuple[tuple[str, bool], ...]:
    """(text, is required) of each criterion, in order."""
    return tuple((item["criterionText"].strip(), item.get("isRequired", False)) for item in items)


def _schedule(value: dict[str, Any] | None) -> records.Schedule | None:
    """The schedule with its cron's white space collapsed; the time zone defaults to UTC."""
    if value is None:
        return None
    return {"cron": " ".join(value["cron"].split()), "timezone": value.get("timezone", "UTC").strip()}


def checked(body: Any, fields: tuple[Field, ...], at_least_one: bool = False, where: str = "") -> dict[str, Any]:
    """The body's members, each checked against its field.

    Raises:
        ApiError: `validation_failed` naming the first member (in declaration order) that is
            missing, unknown or wrong.
    """
    if not isinstance(body, dict):
        raise invalid(where or "body", f"{where or 'the body'} must be a JSON object.")
    known = {field.name: field for field in fields}
    for name in body:
        if name not in known:
            raise invalid(_at(where, name), f"{_at(where, name)} is not a field of this body.")
    if at_least_one and not body:
        raise invalid("body", f"the body must set at least one of {', '.join(known)}.")
    for field in fields:
        if field.name in body:
            _check(body[field.name], field, _at(where, field.name))
        elif field.required:
            raise invalid(_at(where, field.name), f"{_at(where, field.name)} is required.")
    return dict(body)


def _check(value: Any, field: Field, path: str) -> None:
    """Check one member's value; records and lists are checked all the way down."""
    if value is None:
        if not field.nullable:
            raise invalid(path, f"{path} must not be null.")
    elif field.kind == "text":
        if not isinstance(value, str):
            raise invalid(path, f"{path} must be a string.")
        if not 1 <= len(value) <= field.max_length:
            raise invalid(path, f"{path} must be 1 to {field.max_length} characters long.")
        if not re.search(field.pattern, value):
            raise invalid(path, f"{path} {_PATTERN_WORDS.get(field.pattern, 'has the wrong form')}.")
    elif field.kind == "choice":
        if value not in field.choices:
            raise invalid(path, f"{path} must be one of {', '.join(field.choices)}.")
    elif field.kind == "flag":
        if not isinstance(value, bool):
            raise invalid(path, f"{path} must be true or false.")
    elif field.kind == "object":
        if not isinstance(value, dict):
            raise invalid(path, f"{path} must be a JSON object.")
    elif field.kind == "list":
        assert field.items is not None
        if not isinstance(value, list):
            raise invalid(path, f"{path} must be a list.")
        if not field.min_items <= len(value) <= MAX_ITEMS:
            raise invalid(path, f"{path} must hold {field.min_items} to {MAX_ITEMS} items.")
        for index, item in enumerate(value):
            _check(item, field.items, f"{path}[{index}]")
    elif field.kind == "record":
        checked(value, field.fields, where=path)


_PATTERN_WORDS = {
    NOT_BLANK: "must not be blank",
    HTTPS_URL: "must be an https URL",
    FIVE_FIELD_CRON: "must be a five-field cron expression",
}


def _at(where: str, name: str) -> str:
    """The path of member `name` inside `where`."""
    return f"{where}.{name}" if where else name
