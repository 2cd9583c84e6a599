"""Reporting views: one DuckDB SQL file each, transpiled to the destination and applied after a load.

Each file in `views/` holds one `create or replace view` written in lowercase DuckDB SQL, its
first line a comment saying which question the view answers. Table names in the files are
bare (`from runs`); `apply_views` puts the view in the pipeline's dataset, names its tables
in full where the destination needs it, and transpiles the statement with sqlglot into the
destination's dialect. A view whose tables are not in the destination yet (insights disabled,
a load limited by `--resources`) is skipped with a log line.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

import dlt
import sqlglot
from dlt.common.schema.utils import new_column, new_table
from sqlglot import exp

from armature_analytics import ddl

VIEWS_DIR = Path(__file__).parent / "views"
SOURCE_DIALECT = "duckdb"
# A data lake has no place to keep a view: readers query the Parquet files directly.
NO_VIEW_DESTINATIONS = frozenset({"filesystem"})
# Postgres refuses `create or replace view` when a column's name or type changes; such a view
# is dropped and created again in one transaction.
DROP_TO_REPLACE_DIALECTS = frozenset({"postgres", "redshift"})
# DuckDB binds the bare table names in a view's body in the view's own schema, so the body stays
# bare there: the view then survives the file being copied or renamed (its catalog renamed).
# Everywhere else the body names its tables in full.
BARE_BODY_DIALECTS = frozenset({"duckdb"})
# the mark of a view declared in the dlt schema (see `declare_in_schema`)
VIEW_HINT = "x-armature-view"
# where a pipeline remembers the statement of each view it made (in its working folder)
MADE_FILE = "armature_views.json"

# A child of the command line's logger, so that its lines reach the same handler.
log = logging.getLogger("armature_pipeline.views")


@dataclass(frozen=True)
class View:
    """One reporting view: its name, the question it answers, its tables and columns."""

    name: str
    question: str
    tables: frozenset[str]
    columns: tuple[str, ...]
    tree: exp.Create

    def sql(self, dialect: str, qualify: Callable[[str], str] | None = None) -> str:
        """The statement in `dialect`; `qualify` gives full names for the view and its tables."""
        tree = self.tree.copy()
        tree.set("comments", None)
        if qualify is not None:
            if dialect not in BARE_BODY_DIALECTS:
                for table in _source_tables(tree):
                    table.replace(_qualified(qualify(table.name), dialect, table.alias))
            tree.this.replace(_qualified(qualify(self.name), dialect, ""))
        return tree.sql(dialect=dialect, pretty=True)


@cache
def load_views() -> tuple[View, ...]:
    """Every view in `views/`, in file name order."""
    return tuple(_parse(path) for path in sorted(VIEWS_DIR.glob("*.sql")))


def _parse(path: Path) -> View:
    text = path.read_text()
    tree = sqlglot.parse_one(text, read=SOURCE_DIALECT)
    if not isinstance(tree, exp.Create) or tree.kind != "VIEW":
        raise ValueError(f"{path.name}: expected one `create or replace view` statement")
    name = tree.this.name
    if name != path.stem:
        raise ValueError(f"{path.name}: creates view {name!r}; name the file after its view")
    first = text.lstrip().splitlines()[0]
    question = first.removeprefix("--").strip() if first.startswith("--") else ""
    body = tree.expression
    if not isinstance(body, exp.Query):
        raise ValueError(f"{path.name}: the view's body is not a query")
    columns = tuple(select.alias_or_name for select in body.selects)
    tables = frozenset(table.name for table in _source_tables(tree))
    return View(name, question, tables, columns, tree)


def _source_tables(tree: exp.Expression) -> list[exp.Table]:
    """The warehouse tables a statement reads: every table reference that is not a CTE."""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    body = tree.expression if isinstance(tree, exp.Create) else tree
    return [t for t in body.find_all(exp.Table) if t.name not in ctes or t.db]


def _qualified(name: str, dialect: str, alias: str) -> exp.Table:
    table = exp.to_table(name, dialect=dialect)
    if alias:
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return table


def apply_views(pipeline: dlt.Pipeline) -> list[str]:
    """Create or replace every view whose tables exist in the pipeline's dataset; a view already
    there with the same definition is left alone (no DDL, no lock taken).

    Returns:
        The names of the views in place (created now or unchanged), in file name order; empty
        for a destination that keeps no views (filesystem).
    """
    destination = pipeline.destination
    if destination is None or destination.destination_name in NO_VIEW_DESTINATIONS:
        name = destination.destination_name if destination else "no destination"
        log.info("views: none on %s; read the tables directly", name)
        return []
    dialect = destination.capabilities().sqlglot_dialect or SOURCE_DIALECT
    views = load_views()
    present = existing_tables(pipeline, {t for view in views for t in view.tables} | {v.name for v in views})
    made = _made(pipeline)
    created: list[str] = []
    kept: list[str] = []
    with pipeline.sql_client() as client:
        qualify = _qualifier(client, dialect)
        for view in views:
            missing = sorted(view.tables - present)
            if missing:
                log.info("view %s skipped: table %s not loaded yet", view.name, ", ".join(missing))
                continue
            statement = view.sql(dialect, qualify)
            digest = hashlib.sha256(statement.encode()).hexdigest()
            if view.name in present and made.get(view.name) == digest:
                kept.append(view.name)
                continue
            try:
                _create(client, statement, dialect, qualify(view.name))
            except Exception as exc:
                if ddl.timed_out(exc):
                    ddl.skipped(f"view {view.name}", exc)
                else:
                    log.error("view %s failed on %s: %s", view.name, destination.destination_name, exc)
                continue
            made[view.name] = digest
            created.append(view.name)
    _remember(pipeline, made)
    in_place = [v for v in views if v.name in set(created) | set(kept)]
    declare_in_schema(pipeline, in_place)
    log.info("views: %d created or replaced, %d unchanged, of %d in dataset %s", len(created),
             len(kept), len(views), pipeline.dataset_name)
    return [v.name for v in in_place]


def declare_in_schema(pipeline: dlt.Pipeline, views: list[View]) -> None:
    """Declare the views in the pipeline's dlt schema, so that `pipeline.dataset()` reads them
    like tables (`pipeline.dataset().flaky_workflows.df()`, or SQL naming them).

    dlt resolves a dataset's queries through its schema; a view it does not know fails its
    lineage. Each view is a table of the schema marked `x-armature-view`, with the columns and
    types the destination reports for it. dlt creates only the tables a load package carries,
    so it never makes a table of one; readers of the schema that list data tables (the data
    dictionary, column comments) leave them out by that mark.
    """
    schema = pipeline.default_schema
    with pipeline.destination_client() as job_client:
        found = dict(job_client.get_storage_tables([v.name for v in views]))  # type: ignore[attr-defined]
    changed = False
    for view in views:
        columns = [new_column(name, column["data_type"]) for name, column in (found.get(view.name) or {}).items()
                   if column.get("data_type")]
        table: Any = new_table(view.name, columns=columns)
        table.update({"description": view.question, VIEW_HINT: True})
        if schema.tables.get(view.name) != table:
            schema.tables[view.name] = table
            changed = True
    if changed:
        pipeline.schemas.save_schema(schema)


def is_view(table: Any) -> bool:
    """Whether a table of the dlt schema stands for one of the reporting views."""
    return bool(table.get(VIEW_HINT))


def _made(pipeline: dlt.Pipeline) -> dict[str, str]:
    """The digest of each view's statement as this pipeline last created it in its dataset."""
    try:
        made: dict[str, dict[str, str]] = json.loads((Path(pipeline.working_dir) / MADE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return dict(made.get(_where(pipeline), {}))


def _remember(pipeline: dlt.Pipeline, made: dict[str, str]) -> None:
    path = Path(pipeline.working_dir) / MADE_FILE
    try:
        known: dict[str, dict[str, str]] = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known[_where(pipeline)] = made
    try:
        path.write_text(json.dumps(known))
    except OSError:  # views are made again next time: nothing is lost
        pass


def _where(pipeline: dlt.Pipeline) -> str:
    destination = pipeline.destination.destination_name if pipeline.destination else ""
    with pipeline.sql_client() as client:
        place = ".".join(client.make_qualified_table_name_path(None, quote=False))
    return f"{destination}:{place}"


def _qualifier(client: Any, dialect: str) -> Callable[[str], str]:
    """Full names in the dataset; on DuckDB with the catalog, which a file named like the
    dataset (`armature.duckdb`) needs: there `armature.runs` is ambiguous."""
    if dialect != "duckdb":
        return client.make_qualified_table_name  # type: ignore[no-any-return]
    parts = client.make_qualified_table_name_path(None)
    if len(parts) == 1:
        catalog = client.execute_sql("select current_database()")[0][0]
        parts = [client.capabilities.escape_identifier(catalog), *parts]
    prefix = ".".join(parts)
    return lambda name: f"{prefix}.{client.capabilities.escape_identifier(name)}"


def _create(client: Any, statement: str, dialect: str, qualified_name: str) -> None:
    """Create or replace one view, every statement under the lock timeout (a failed statement
    rolls its transaction back, and with it a timeout set there)."""
    try:
        ddl.bound(client, dialect)
        client.execute_sql(statement)
    except Exception as exc:
        if dialect not in DROP_TO_REPLACE_DIALECTS or ddl.timed_out(exc):
            raise
        with client.begin_transaction():
            ddl.bound(client, dialect)
            client.execute_sql(f"drop view if exists {qualified_name}")
            client.execute_sql(statement)


def drop_views(pipeline: dlt.Pipeline) -> list[str]:
    """Drop every reporting view, e.g. before a full refresh drops the tables beneath them."""
    destination = pipeline.destination
    if destination is None or destination.destination_name in NO_VIEW_DESTINATIONS:
        return []
    dialect = destination.capabilities().sqlglot_dialect or SOURCE_DIALECT
    dropped = []
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return []
        qualify = _qualifier(client, dialect)
        for view in load_views():
            client.execute_sql(f"drop view if exists {qualify(view.name)}")
            dropped.append(view.name)
    return dropped


def existing_tables(pipeline: dlt.Pipeline, names: set[str]) -> set[str]:
    """Which of `names` exist as tables in the pipeline's dataset right now."""
    with pipeline.destination_client() as job_client:
        found = job_client.get_storage_tables(sorted(names))  # type: ignore[attr-defined]
        return {name for name, columns in found if columns}
