"""Helpers for the dbt package's tests: compiling it for a warehouse the tests cannot reach
(BigQuery, Snowflake), and reading a model's rows beside its view's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Callable

import yaml

from armature_analytics.dbt_package import PACKAGE_DIR
from armature_analytics.views import load_views
from tests.support.analytics_warehouse import assert_same_rows, plain_rows

# a throwaway service-account key, made in dbt's environment (its BigQuery client needs one to
# start; nothing is ever sent with it)
MAKE_KEY = """
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
print(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption()).decode())
"""


def offline_profiles(python: Path, folder: Path) -> Path:
    """profiles.yml with a BigQuery and a Snowflake target whose credentials reach nothing."""
    key = subprocess.run([str(python), "-c", MAKE_KEY], capture_output=True, text=True, check=True).stdout
    profiles = {
        "bigquery": {"target": "compile", "outputs": {"compile": {
            "type": "bigquery", "method": "service-account-json", "project": "armature-example",
            "dataset": "armature_data_dbt", "threads": 1, "keyfile_json": {
                "type": "service_account", "project_id": "armature-example", "private_key_id": "0",
                "private_key": key, "client_email": "compile@armature-example.iam.gserviceaccount.com",
                "client_id": "0", "token_uri": "https://oauth2.googleapis.com/token"}}}},
        "snowflake": {"target": "compile", "outputs": {"compile": {
            "type": "snowflake", "account": "armature-example", "user": "analyst", "password": "unused",
            "database": "ANALYTICS", "schema": "ARMATURE_DATA_DBT", "warehouse": "unused", "threads": 1}}},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(yaml.safe_dump(profiles))
    return folder


def compile_offline(python: Path, profiles: Path, adapter: str, folder: Path) -> dict[str, str]:
    """`dbt compile` of the package for `adapter` without touching the warehouse: each model's SQL."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    done = subprocess.run(
        [str(python), "-m", "dbt.cli.main", "compile", "--profiles-dir", str(profiles), "--profile", adapter,
         "--target-path", str(folder / "target"), "--log-path", str(folder / "logs"),
         "--no-populate-cache", "--no-introspect", "--select", "path:models/marts"],
        cwd=PACKAGE_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    compiled = folder / "target" / "compiled" / "armature" / "models" / "marts"
    return {path.stem: path.read_text() for path in sorted(compiled.glob("*.sql"))}


def assert_models_equal_views(query: Callable[[str], list[tuple[Any, ...]]], views_schema: str,
                              models_schema: str) -> None:
    """Every model holds exactly the rows of the view of the same name (and some rows)."""
    for view in load_views():
        columns = ", ".join(view.columns)
        from_view = plain_rows(query(f"select {columns} from {views_schema}.{view.name}"))
        from_model = plain_rows(query(f"select {columns} from {models_schema}.{view.name}"))
        assert from_view, view.name
        assert_same_rows(from_model, from_view)
