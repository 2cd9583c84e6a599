"""How `status` prints what it found: text for a person, or one JSON document."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from armature_analytics.health import describe_timestamp
from armature_pipeline.output.durations import describe_age
from armature_pipeline.warehouse.legacy_duckdb import legacy_note
from armature_source.source import HEALTH_TABLES

HEALTH = {table.name for table in HEALTH_TABLES}

if TYPE_CHECKING:
    from armature_pipeline.status.model import Status


def as_text(found: "Status") -> str:
    lines = [_headline(found)]
    lines += [f"  {problem}" for problem in found.problems]
    if found.last_run:
        run = found.last_run
        rows = sum(n for table, n in run.rows.items() if table not in HEALTH)
        lines.append(f"last run: {run.finished_at}, exit {run.exit_code} after {run.seconds:.1f} s"
                     + (f", {rows} new or changed rows" if run.ok else ""))
    elif found.reading is not None:  # the record lives in the pipelines folder, which is new or was lost
        lines.append(f"last run: no record of one in {found.working_dir.parent}; how the last run ended is "
                     "not known here, only what the warehouse holds")
    if found.state is not None:
        lines.append(_cursors(found.state))
    if found.copy is not None:
        lines.append(_copy_line(found))
    reading = found.reading
    if reading is not None:
        lines += _ledger(reading.ledger)
        lines += _gaps(reading.gaps, reading.gap_count)
        lines += _rejects(reading.rejects, reading.reject_count)
        if reading.row_counts:
            lines.append("row counts:")
            lines += [f"  {name:<26} {n:>9}" for name, n in sorted(reading.row_counts.items())]
        lines += _legacy(found)
    return "\n".join(lines)


def as_dict(found: "Status") -> dict[str, Any]:
    """The same as the text, as plain JSON values."""
    reading = found.reading
    document: dict[str, Any] = _plain({
        "pipeline": found.pipeline,
        "organization": found.organization,
        "dataset": found.dataset,
        "destination": found.destination,
        "where": found.where,
        "healthy": found.healthy,
        "problems": found.problems,
        "checked_at": found.checked_at,
        "max_age_s": found.max_age_s,
        "last_successful_load": {"at": found.last_load_at, "age_s": found.age_s},
        "last_run": asdict(found.last_run) if found.last_run else None,
        "pending_packages": found.pending,
        "ran_here": found.state is not None,
        "cursors": _cursor_values(found.state) if found.state is not None else None,
        "read_copy": _copy_values(found),
        "destination_error": found.unreadable or found.missing,
        "ledger": reading.ledger if reading else [],
        "undeclared_fields": undeclared_fields(reading.ledger) if reading else [],
        "coverage_gaps": {"count": reading.gap_count, "newest": reading.gaps} if reading else None,
        "rejected_records": ({"count": reading.reject_count, "by_table_and_reason": reading.rejects}
                             if reading else None),
        "row_counts": reading.row_counts if reading else {},
        "notes": _legacy(found),
    })
    return document


def _headline(found: "Status") -> str:
    who = f"organization {found.organization}: " if found.organization else ""
    where = f"{who}pipeline {found.pipeline}: dataset {found.dataset} on {found.where}"
    if found.healthy:
        age = found.age_s
        when = (f"{describe_age(age)} ago ({describe_timestamp(found.last_load_at)})"
                if age is not None else "never")
        return f"{where}\nhealthy: the last successful load finished {when}"
    return f"{where}\nUNHEALTHY:"


def _copy_values(found: "Status") -> dict[str, Any] | None:
    copy = found.copy
    if copy is None:
        return None
    record = copy.record
    return {
        "path": str(copy.path), "load_id": copy.holds, "published_at": copy.published_at,
        "age_s": (found.checked_at - copy.published_at).total_seconds() if copy.published_at else None,
        "storage_version": copy.storage_version, "bytes": copy.bytes, "behind": copy.behind,
        "publishing": copy.publishing(found.running),
        "due_load_id": copy.due, "last_publish_seconds": record.seconds if record else None,
        "last_publish_error": record.error if record else None,
    }


def _copy_line(found: "Status") -> str:
    copy = found.copy
    assert copy is not None
    if copy.published_at is None:
        return f"read copy: {copy.path}, not published yet"
    age = describe_age((found.checked_at - copy.published_at).total_seconds())
    state = ("being published by the running load" if copy.publishing(found.running)
             else "BEHIND the warehouse" if copy.behind else "up to date")
    size = f", {copy.bytes / 1e6:.1f} MB" if copy.bytes is not None else ""
    return (f"read copy: {copy.path}, load {copy.holds or 'none'}, published {age} ago "
            f"({describe_timestamp(copy.published_at)}), DuckDB storage {copy.storage_version or '?'}"
            f"{size}; {state}")


def _cursor_values(state: dict[str, Any]) -> dict[str, Any]:
    resources = state.get("sources", {}).get("armature", {}).get("resources", {})
    runs, sessions = resources.get("runs", {}), resources.get("sessions", {})
    return {
        "runs": {"newest_started_at": runs.get("mark"), "open": len(runs.get("open", {})),
                 "awaiting_children": len(runs.get("awaiting", {}))},
        "sessions": {"last_read_at": sessions.get("mark"), "tracked": len(sessions.get("known", {}))},
    }


def _cursors(state: dict[str, Any]) -> str:
    c = _cursor_values(state)
    runs, sessions = c["runs"], c["sessions"]
    return (f"cursors: runs up to started_at {runs['newest_started_at'] or '-'}, {runs['open']} "
            f"open runs to re-check, {runs['awaiting_children']} awaiting children; sessions "
            f"read up to {sessions['last_read_at'] or '-'}, {sessions['tracked']} tracked")


def _ledger(ledger: list[dict[str, Any]]) -> list[str]:
    if not ledger:
        return ["last load per resource (load_ledger): none recorded yet"]
    lines = ["last load per resource (load_ledger):"]
    for r in ledger:
        since = f" since {describe_timestamp(r['window_since'])}" if r.get("window_since") else ""
        window = f", window {r['window_range']}{since}" if r.get("window_range") else ""
        lines.append(
            f"  {r['resource']}: {r.get('status') or '?'}, load {r.get('load_id')} finished "
            f"{describe_timestamp(r.get('finished_at'))} in {_num(r.get('seconds'))} s{window}")
        lines.append(
            f"      {_num(r.get('pages'))} pages; rows {_num(r.get('rows_listed'))} listed, "
            f"{_num(r.get('rows_loaded'))} loaded, {_num(r.get('rows_skipped'))} skipped, "
            f"{_num(r.get('rows_vanished'))} vanished, {_num(r.get('rows_rejected'))} rejected; "
            f"{_num(r.get('requests'))} requests, {_num(r.get('retries'))} retries, "
            f"{_num(r.get('rate_limited'))} rate-limited (429)")
        if r.get("message"):
            lines.append(f"      {r['message']}")
    undeclared = undeclared_fields(ledger)
    if undeclared:
        lines.append(f"undeclared fields the host sends (kept in each table's extra_fields; declare "
                     f"them in armature_source/tables to give them columns): {', '.join(undeclared)}")
    return lines


def undeclared_fields(ledger: list[dict[str, Any]]) -> list[str]:
    """The `table.field` names the last load of each resource kept in `extra_fields`."""
    names: set[str] = set()
    for row in ledger:
        value = row.get("undeclared_fields")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        names.update(str(v) for v in value or [])
    return sorted(names)


def _gaps(gaps: list[dict[str, Any]], count: int) -> list[str]:
    if not count:
        return ["coverage gaps (coverage_gaps): none"]
    shown = f", the newest {len(gaps)}" if count > len(gaps) else ""
    lines = [f"coverage gaps (coverage_gaps): {count}, newest first{shown}:"]
    lines += [f"  {describe_timestamp(g.get('detected_at'))}  {g.get('message') or g.get('kind')}"
              for g in gaps]
    return lines


def _rejects(groups: list[dict[str, Any]], count: int) -> list[str]:
    if not count:
        return ["rejected records (rejected_records): none"]
    lines = [f"rejected records (rejected_records): {count}, by table and reason, newest first:"]
    lines += [f"  {g['table_name']}: {g['reason']}: {g['records']} (newest "
              f"{describe_timestamp(g['newest'])})" for g in groups]
    return lines


def _legacy(found: "Status") -> list[str]:
    reading = found.reading
    if reading is None or not found.where.startswith("duckdb file "):
        return []
    path = found.where.removeprefix("duckdb file ")
    return legacy_note(path, found.dataset, reading.tables, reading.views)


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value)) if isinstance(value, (int, float)) else str(value)


def _plain(value: Any) -> Any:
    """datetimes as ISO 8601 text, containers walked; the rest as JSON has it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
