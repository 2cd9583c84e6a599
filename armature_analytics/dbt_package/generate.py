"""The generated files of the dbt package: what they should hold, writing them, finding stale ones."""

from __future__ import annotations

from pathlib import Path

from armature_analytics.dbt_package import MARTS_DIR, PACKAGE_DIR, SOURCES_FILE
from armature_analytics.dbt_package.models import model_sql
from armature_analytics.dbt_package.properties import as_yaml, marts, sources
from armature_analytics.views import load_views

MARTS_PROPERTIES = MARTS_DIR / "schema.yml"


def expected() -> dict[Path, str]:
    """Each generated file (relative to the package folder) and its text."""
    views = load_views()
    files = {SOURCES_FILE: as_yaml(sources()), MARTS_PROPERTIES: as_yaml(marts(views))}
    files.update({MARTS_DIR / f"{view.name}.sql": model_sql(view) for view in views})
    return files


def write(root: Path = PACKAGE_DIR) -> list[Path]:
    """Write every generated file, and remove a model whose view is gone; what was written."""
    files = expected()
    for old in (root / MARTS_DIR).glob("*.sql"):
        if old.relative_to(root) not in files:
            old.unlink()
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return list(files)


def stale(root: Path = PACKAGE_DIR) -> list[Path]:
    """Generated files that differ from what the views and declarations give, or are missing,
    and models left over from a view that is gone."""
    files = expected()
    found = [path for path, text in files.items()
             if not (root / path).exists() or (root / path).read_text() != text]
    found += [old.relative_to(root) for old in (root / MARTS_DIR).glob("*.sql")
              if old.relative_to(root) not in files]
    return found
