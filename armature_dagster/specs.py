"""What the code location declares: one asset per warehouse table and per reporting view, the
organizations as dynamic partitions, and the checks each load answers.

Every asset is written from the declarations the load itself uses (`armature_source.tables`,
`armature_analytics/views/*.sql`), so a table or view added there appears here without an edit:

    armature/runs ── armature/trace_spans, armature/tool_calls, armature/evaluations
                         └─ armature/evaluations ── armature/evaluation_criteria
    armature/runs ── armature/flaky_workflows (a view reads it) ...
"""

from __future__ import annotations

import warnings

import dagster as dg

from armature_analytics.views import View, load_views
from armature_source import RESOURCE_ALIASES
from armature_source.tables import ALL_TABLES, COVERAGE, LOAD_LEDGER, REJECTED, Table

PREFIX = "armature"
TABLE_GROUP = "armature"
VIEW_GROUP = "armature_reporting"
# organizations are added and removed in dlt's config, so the partitions are dynamic
ORGS = dg.DynamicPartitionsDefinition(name="armature_orgs")

CHECK_GAPS = "no_new_coverage_gaps"
CHECK_REJECTED = "no_new_rejected_records"
CHECK_FRESH = "loaded_recently"


def asset_key(name: str) -> dg.AssetKey:
    """The key of a table or view: `armature/<name>` (tables and views never share a name)."""
    return dg.AssetKey([PREFIX, name])


def resource_of(table: Table) -> str:
    """The source's resource that fills `table`; the health tables are filled by every one."""
    return RESOURCE_ALIASES.get(table.name, "every resource")


def table_spec(table: Table) -> dg.AssetSpec:
    """A table as an asset: its description and columns as declared, after its parent."""
    columns = [dg.TableColumn(name, kind, description=table.descriptions[name])
               for name, kind in table.columns.items()]
    return dg.AssetSpec(
        asset_key(table.name),
        description=table.description,
        deps=[asset_key(table.parent[0])] if table.parent else [],
        group_name=TABLE_GROUP,
        kinds={"dlt"},
        skippable=True,  # a table the host serves nothing for yet (insights off) is not created
        metadata={
            "dagster/column_schema": dg.TableSchema(columns=columns),
            "armature/key": ", ".join(table.key),
            "armature/resource": resource_of(table),
        },
    )


def view_spec(view: View) -> dg.AssetSpec:
    """A reporting view as an asset, after the tables it reads."""
    return dg.AssetSpec(
        asset_key(view.name),
        description=view.question,
        deps=[asset_key(name) for name in sorted(view.tables)],
        group_name=VIEW_GROUP,
        kinds={"sql"},
        skippable=True,  # skipped by the load while one of its tables does not exist
        metadata={"dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name) for name in view.columns])},
    )


def asset_specs() -> list[dg.AssetSpec]:
    return [table_spec(t) for t in ALL_TABLES] + [view_spec(v) for v in load_views()]


def check_specs() -> list[dg.AssetCheckSpec]:
    """The checks every load answers, each per organization."""
    declared = [
        (CHECK_GAPS, COVERAGE, "The load found nothing the API could not serve (a window it "
                               "no longer reaches, a list cut at its limit); warns otherwise."),
        (CHECK_REJECTED, REJECTED, "The load loaded every record as served; warns when a value "
                                   "or record went to rejected_records."),
        (CHECK_FRESH, LOAD_LEDGER, "The organization's last successful load (dlt's _dlt_loads) "
                                   "is recent; fails when it is older than the threshold."),
    ]
    # Partitioned checks are a Dagster preview; without them a check's result would be the
    # last organization's, whichever that was. The extra pins Dagster below 1.14.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [dg.AssetCheckSpec(name, asset=asset_key(table.name), description=text,
                                  partitions_def=ORGS)
                for name, table, text in declared]
