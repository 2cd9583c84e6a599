"""What the organization has set up: itself, its MCP sources, its workflows.

    organization  organization   GET /org (asked once per load, see `load.context.Load`)
    mcp_servers   mcp_servers    GET /mcp-servers, and each server's detail for its tools
    workflows     workflows      GET /workflows, and by id each one that left the list
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

from armature_source import endpoints as api
from armature_source import tables as t
from armature_source.http.paging import pick_rows
from armature_source.load.digests import Digests
from armature_source.load.job import Job
from armature_source.load.state import WorkflowsState, resource_state

log = logging.getLogger("armature_source")


def organization(job: Job) -> Iterator[Any]:
    """The organization and the role of the key that reads it."""
    if job.out_of_time("before reading the organization"):
        return
    org = job.load.organization()
    job.counts.listed = 1
    log.info("organization: %s, key role %s", org.slug, org.role)
    yield from job.emit(t.ORGANIZATION, [org.row()])


def mcp_servers(job: Job) -> Iterator[Any]:
    """The MCP sources, each with the tools its detail lists."""
    if job.out_of_time("before reading the MCP sources"):
        return
    rows = pick_rows(job.client.get(api.MCP_SERVERS.path()), *api.MCP_SERVERS.envelope)
    keyed = [r for r in rows if t.MCP_SERVERS.keyed(r)]  # one without its key: rejected by emit
    details = job.client.get_many((api.MCP_SERVER.path(r["id"]), None) for r in keyed)
    for row, detail in zip(keyed, details, strict=True):
        if isinstance(detail, dict):
            row["tools"] = detail.get("tools")
    digests = Digests(resource_state())
    fresh = digests.fresh(rows)
    job.counts.listed, job.counts.skipped = len(rows), len(rows) - len(fresh)
    log.info("mcp_servers: %d listed, %d new or changed", len(rows), len(fresh),
             extra={"rows": len(fresh), "listed": len(rows)})
    yield from job.emit(t.MCP_SERVERS, fresh)
    job.after(digests.commit)


def workflows(job: Job) -> Iterator[Any]:
    """The workflows, with the current version flattened into columns.

    The list shows live workflows only; one that drops out of it (archived) is read once by
    id, so the warehouse keeps it, marked with its archived state, instead of losing track.
    """
    if job.out_of_time("before reading the workflows"):
        return
    state: WorkflowsState = resource_state()
    listed = pick_rows(job.client.get(api.WORKFLOWS.path()), *api.WORKFLOWS.envelope)
    rows = [_flat_workflow(r) for r in listed]
    now_listed = {str(r.get("id")) for r in rows}
    dropped = sorted(set(state.get("listed", [])) - now_listed)
    details = job.client.get_many((api.WORKFLOW.path(wf_id), None) for wf_id in dropped)
    for wf_id, detail in zip(dropped, details, strict=True):
        if isinstance(detail, dict):
            rows.append(_flat_workflow(detail))
        else:
            log.warning("workflows: %s is no longer served (404); kept as last seen", wf_id)
            job.counts.vanished += 1
    digests = Digests(state)
    fresh = digests.fresh(rows)
    job.counts.listed, job.counts.skipped = len(listed), len(rows) - len(fresh)
    log.info("workflows: %d listed, %d dropped out of the list, %d new or changed",
             len(listed), len(dropped), len(fresh), extra={"rows": len(fresh), "listed": len(listed)})
    yield from job.emit(t.WORKFLOWS, fresh)
    job.after(digests.commit)
    state["listed"] = sorted(now_listed)


def _flat_workflow(row: dict[str, Any]) -> dict[str, Any]:
    version = row.pop("current_version", None)
    version = version if isinstance(version, dict) else {}
    row["current_version_id"] = version.get("id")
    row["current_version_number"] = version.get("number")
    row["current_version_created_at"] = version.get("created_at")
    return row
