"""The asset checks' verdicts, from what the load recorded in the warehouse.

    no_new_coverage_gaps     coverage_gaps rows written by this load      -> warn
    no_new_rejected_records  rejected_records rows written by this load   -> warn
    loaded_recently          last finished load in _dlt_loads too old     -> fail

Gaps and rejections do not fail the load: what could be loaded was loaded, and the rows say
what could not. Freshness is also answered after a failed load, which is when it matters.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import dagster as dg

from armature_dagster.specs import CHECK_FRESH, CHECK_GAPS, CHECK_REJECTED, asset_key
from armature_dagster.warehouse import Facts, age_minutes
from armature_source.tables import COVERAGE, LOAD_LEDGER, REJECTED

SHOWN = 20  # at most this many gap messages in a check's metadata


def load_checks(facts: Facts, stale_after_minutes: float) -> list[dg.AssetCheckResult]:
    """Every check's verdict after a successful load."""
    return [gaps_check(facts.new_gaps), rejected_check(facts.new_rejected),
            fresh_check(facts.last_success, stale_after_minutes)]


def gaps_check(gaps: list[dict[str, Any]]) -> dg.AssetCheckResult:
    messages = [str(g["message"]) for g in gaps[:SHOWN]]
    return dg.AssetCheckResult(
        asset_key=asset_key(COVERAGE.name), check_name=CHECK_GAPS, passed=not gaps,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(gaps)} coverage gap(s) in this load" if gaps else "no coverage gap",
        metadata={"new_gaps": len(gaps),
                  "by_resource": dict(Counter(f"{g['resource']} {g['kind']}" for g in gaps)),
                  "messages": dg.MetadataValue.md("\n".join(f"- {m}" for m in messages) or "none")},
    )


def rejected_check(rejected: list[dict[str, Any]]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset_key(REJECTED.name), check_name=CHECK_REJECTED, passed=not rejected,
        severity=dg.AssetCheckSeverity.WARN,
        description=(f"{len(rejected)} record(s) or value(s) could not be loaded as served; see "
                     "rejected_records" if rejected else "every record loaded as served"),
        metadata={"new_rejected": len(rejected),
                  "by_table": dict(Counter(str(r["table_name"]) for r in rejected)),
                  "reasons": sorted({str(r["reason"]) for r in rejected})[:SHOWN]},
    )


def fresh_check(last_success: datetime | None, stale_after_minutes: float) -> dg.AssetCheckResult:
    """Fails when no load ever finished, or the last one is older than the threshold."""
    metadata: dict[str, Any] = {"stale_after_minutes": stale_after_minutes}
    if last_success is None:
        return dg.AssetCheckResult(
            asset_key=asset_key(LOAD_LEDGER.name), check_name=CHECK_FRESH, passed=False,
            description="no load of this organization has finished yet", metadata=metadata)
    age = age_minutes(last_success)
    metadata.update(last_successful_load_at=last_success.isoformat(), age_minutes=round(age, 1))
    return dg.AssetCheckResult(
        asset_key=asset_key(LOAD_LEDGER.name), check_name=CHECK_FRESH,
        passed=age <= stale_after_minutes, metadata=metadata,
        description=f"last successful load {age:.0f} minute(s) ago",
    )
