"""One warehouse table: its name, key, write disposition, typed and described columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# dlt's own columns, described once for every table
LOAD_ID_COLUMN = "_dlt_load_id"
LOAD_ID_DESCRIPTION = "The load that wrote the row; its status and time are in `_dlt_loads`."
# what a record carries beyond its table's declared columns, kept in one column (CONTRACT §2)
EXTRA_COLUMN = "extra_fields"
EXTRA_DESCRIPTION = ("Fields the host sent that this table does not declare, as one JSON object "
                     "{field: value}, cut at 64 KiB (the cut is in rejected_records); null when "
                     "there were none. `armature-pipeline status` and `check` name them.")


@dataclass(frozen=True)
class Table:
    """A table of the warehouse contract.

    `columns` maps each column to its dlt type; `descriptions` says what each one means, its
    units or allowed values, and which API field it comes from. `parent` names the table a
    child row belongs to: `(table, columns here, columns there)`. `values` holds the closed
    vocabulary of a column that has one (statuses, kinds, ranges): what the dbt package's
    `accepted_values` tests accept.
    """

    name: str
    description: str
    key: tuple[str, ...]
    disposition: str
    columns: Mapping[str, str]
    descriptions: Mapping[str, str] = field(repr=False)
    parent: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def keyed(self, row: Mapping[str, Any]) -> bool:
        """Whether a row carries every key column; one that does not is a rejected record."""
        return all(row.get(k) is not None for k in self.key)

    @property
    def keeps_extras(self) -> bool:
        """Whether fields the host sends beyond the declared columns go to `extra_fields`."""
        return EXTRA_COLUMN in self.columns

    def hints(self) -> dict[str, Any]:
        """Keyword arguments for `apply_hints` / `@dlt.resource`."""
        columns: dict[str, Any] = {
            name: {"data_type": kind, "nullable": name not in self.key,
                   "description": self.descriptions[name]}
            for name, kind in self.columns.items()
        }
        columns[LOAD_ID_COLUMN] = {"data_type": "text", "nullable": False,
                                   "description": LOAD_ID_DESCRIPTION}
        hints: dict[str, Any] = {
            "table_name": self.name,
            "primary_key": list(self.key),
            "write_disposition": self.disposition,
            "columns": columns,
            "additional_table_hints": {"description": self.description},
        }
        if self.parent:
            table, mine, theirs = self.parent
            hints["references"] = [{
                "referenced_table": table, "columns": list(mine), "referenced_columns": list(theirs),
                "cardinality": "many_to_one",
            }]
        return hints


def table(
    name: str, description: str, key: tuple[str, ...], disposition: str = "merge", /,
    parent: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None, extras: bool = True,
    **columns: tuple[str, str] | tuple[str, str, tuple[str, ...]],
) -> Table:
    """Declare a table: each column as `name=(dlt type, description)`, or `(dlt type,
    description, allowed values)`; a table of the host's records (`extras`) also gets the
    `extra_fields` column for what it does not declare."""
    if extras:
        columns = {**columns, EXTRA_COLUMN: ("json", EXTRA_DESCRIPTION)}
    return Table(
        name, description, key, disposition,
        columns={c: spec[0] for c, spec in columns.items()},
        descriptions={c: spec[1] for c, spec in columns.items()},
        parent=parent,
        values={c: spec[2] for c, spec in columns.items() if len(spec) > 2},
    )
