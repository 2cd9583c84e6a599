"""The reporting views as a dbt package, generated from the view files and table declarations.

The view files (`armature_analytics/views/*.sql`) stay the one source of the reporting SQL: the
default load applies them without dbt. `python -m armature_analytics.dbt_package` writes the
package's generated files from them (`models.py`: each view as a mart model, its tables as
`source()`s, DuckDB's dialect as dbt's and the package's cross-database macros) and from the
table declarations (`properties.py`: `sources.yml` with descriptions, freshness and tests, the
marts' `schema.yml`); `--check` exits 1 when a committed file is stale, and a test runs it.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "dbt_armature"
# the package's name in dbt (`dbt_project.yml`), the prefix of its macros
PACKAGE_NAME = "armature"
SOURCE_NAME = "armature"
MARTS_DIR = Path("models") / "marts"
SOURCES_FILE = Path("models") / "sources.yml"
