"""Tables of the loads' own health: coverage gaps, rejected records, the load ledger."""

from __future__ import annotations

from armature_source.tables.table import table
from armature_source.vocabulary import INSIGHT_RANGES

COVERAGE = table(
    "coverage_gaps",
    "One row per thing the API could not serve to a load: a window it no longer reaches, a "
    "list cut at its limit, children of a run never served; appended when found.",
    ("resource", "kind", "range", "detected_at"),
    extras=False,
    resource=("text", "The resource that found it, e.g. runs or sessions."),
    kind=("text", "window_gap, limit_cut or children_unavailable.",
             ("window_gap", "limit_cut", "children_unavailable")),
    range=("text", "The range asked when it was found; `-` when the gap is not about a window."),
    detected_at=("timestamp", "The host's time when the load found it, UTC."),
    missing_from=("timestamp", "Start of the span that could not be read, UTC, when known."),
    missing_to=("timestamp", "End of that span, UTC, when known."),
    missing_count=("bigint", "How many records were not read, when known."),
    message=("text", "The gap in plain words, as the load logged it."),
)
REJECTED = table(
    "rejected_records",
    "One row per record, or value of one, that could not be loaded as served: the value "
    "became null in its row (or, without its key, the record was not loaded at all); "
    "appended when found, once per record and reason.",
    ("table_name", "record_key", "reason"),
    extras=False,
    table_name=("text", "The table the record belongs to."),
    record_key=("text", "The record's key as JSON (its key columns and values); the whole "
                        "record's digest when it has no key."),
    reason=("text", "What was wrong, e.g. `cost_usd: not a number` or `no key`."),
    columns_nulled=("json", "The columns set to null in the loaded row, a JSON array."),
    detected_at=("timestamp", "When the load found it, UTC (the host's clock)."),
    raw=("text", "The record as served, JSON, cut at 64 KiB."),
    raw_truncated=("bool", "Whether `raw` was cut."),
)
LOAD_LEDGER = table(
    "load_ledger",
    "One row per resource per load: what it asked for and what it got; appended each load.",
    ("load_id", "resource"),
    extras=False,
    load_id=("text", "The load; see `_dlt_loads.load_id`."),
    resource=("text", "The resource, e.g. runs or sessions."),
    started_at=("timestamp", "When the resource started, UTC (local clock)."),
    finished_at=("timestamp", "When it ended, UTC (local clock)."),
    status=("text", "ok; stopped (max_load_minutes used up: the next load goes on); limited "
                    "(add_limit's batches done); the note is in `message`.",
            ("ok", "stopped", "limited")),
    window_range=("text", "The range asked (24h, 7d, 30d, 90d), when windowed.", tuple(INSIGHT_RANGES)),
    window_since=("timestamp", "The earliest time this load needed, UTC; null for all."),
    pages=("bigint", "List pages read."),
    rows_listed=("bigint", "Records the host listed."),
    rows_loaded=("bigint", "Rows written to the resource's tables."),
    rows_skipped=("bigint", "Listed records not written: unchanged, or already loaded."),
    rows_vanished=("bigint", "Records gone between list and detail (404 by id as well)."),
    rows_rejected=("bigint", "Records with a value that could not be loaded as served."),
    requests=("bigint", "HTTP requests sent."),
    retries=("bigint", "Requests sent again after a transient failure."),
    rate_limited=("bigint", "Answers 429 (rate limited)."),
    seconds=("double", "Wall time of the resource, seconds."),
    undeclared_fields=("json", "Fields the host sent that no column declares, a JSON array of "
                               "`table.field`; they are kept in that table's `extra_fields`."),
    message=("text", "A short note: the error when it failed, gaps or waits."),
)
