"""Tables of what the organization has set up: itself, its MCP sources, its workflows."""

from __future__ import annotations

from armature_source.tables.table import table

# Merged, not dlt's `replace`: a replace job retried after a crash mid-load inserts its row a
# second time (the truncate ran only when the package started); a merge on the key cannot.
# The result is the same "replaced" row each load.
ORGANIZATION = table(
    "organization",
    "One row per organization the API key belongs to (GET /org); rewritten every load.",
    ("id",),
    id=("text", "Organization id (`organization.id` of GET /org)."),
    slug=("text", "Organization slug, as in its dashboard URL (`organization.slug`)."),
    name=("text", "Organization display name (`organization.name`)."),
    actor_role=("text", "Role of the API key that loads it: viewer, editor, admin or owner "
                        "(`actor.role`).", ("viewer", "editor", "admin", "owner")),
    actor_api_key_name=("text", "Name of that API key in Armature's settings (`actor.apiKeyName`)."),
)
MCP_SERVERS = table(
    "mcp_servers",
    "One row per MCP source of the organization (GET /mcp-servers), with its tools from "
    "GET /mcp-servers/{id}; merged on `id`.",
    ("id",),
    id=("text", "MCP source id (`id`)."),
    name=("text", "Display name (`name`)."),
    transport_type=("text", "How Armature reaches it: streamable_http, sse or stdio_hosted "
                            "(`transport_type`).", ("streamable_http", "sse", "stdio_hosted")),
    target_kind=("text", "What it is: mcp (an MCP server) or cli (`target_kind`).", ("mcp", "cli")),
    base_url=("text", "Endpoint URL of the server, for HTTP transports (`base_url`)."),
    categories=("json", "Category slugs, a JSON array of strings (`categories`)."),
    environment=("text", "Environment, e.g. production (`environment`)."),
    tools=("json", "Tools the server offers, a JSON array of {name, description} "
                   "(`tools` of GET /mcp-servers/{id})."),
    created_at=("timestamp", "When the source was created (`created_at`, UTC)."),
    updated_at=("timestamp", "When it last changed (`updated_at`, UTC)."),
)
WORKFLOWS = table(
    "workflows",
    "One row per workflow (GET /workflows), with its current version flattened into "
    "columns; one that leaves the list is read once by id and kept with `state` archived; "
    "merged on `id`.",
    ("id",),
    id=("text", "Workflow id (`id`)."),
    name=("text", "Display name (`name`)."),
    description=("text", "What the workflow tests (`description`)."),
    mcp_server_id=("text", "The MCP source it tests; see `mcp_servers.id` (`mcp_server_id`)."),
    state=("text", "active, paused or archived (`state`).", ("active", "paused", "archived")),
    categories=("json", "Category slugs, a JSON array of strings (`categories`)."),
    schedule=("json", "Schedule as JSON {cron, timezone}, null when manual-only (`schedule`)."),
    tester_model_ids=("json", "Models the tester agent runs with, a JSON array (`tester_model_ids`)."),
    criteria=("json", "Evaluation criteria, a JSON array of {id, text, is_required} (`criteria`)."),
    current_version_id=("text", "Id of the current workflow version (`current_version.id`)."),
    current_version_number=("bigint", "Number of the current version, from 1 "
                                      "(`current_version.number`)."),
    current_version_created_at=("timestamp", "When the current version was made, UTC "
                                             "(`current_version.created_at`)."),
    created_at=("timestamp", "When the workflow was created, UTC (`created_at`)."),
    updated_at=("timestamp", "When it last changed, UTC (`updated_at`)."),
    archived_at=("timestamp", "When it was archived, UTC; null while live (`archived_at`)."),
)
