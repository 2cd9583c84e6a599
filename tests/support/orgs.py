"""Several organizations in one project's .dlt/ config, and the command run there, for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.warehouse import REPO, Warehouse


def write_orgs(project: Path, orgs: dict[str, tuple[str, str]]) -> None:
    (project / ".dlt").mkdir(parents=True, exist_ok=True)
    config = "".join(f'[armature.orgs.{slug}]\nbase_url = "{url}"\n\n' for slug, (url, _) in orgs.items())
    secrets = "".join(f'[armature.orgs.{slug}]\napi_key = "{key}"\n\n' for slug, (_, key) in orgs.items())
    (project / ".dlt" / "config.toml").write_text(config)
    (project / ".dlt" / "secrets.toml").write_text(secrets)


def org_file(project: Path, slug: str) -> Warehouse:
    class OrgFile(Warehouse):
        @property
        def db_path(self) -> Path:
            return self.root / f"armature_{slug}.duckdb"

    return OrgFile(project, name=f"armature_{slug}")


def cli(project: Path, *args: str) -> Any:
    """The command in `project`, with its .dlt/ config; pipeline names come from the orgs."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DESTINATION__DUCKDB__CREDENTIALS", "ARMATURE_API_KEY", "ARMATURE_BASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["DLT_PROJECT_DIR"] = str(project)
    command = [sys.executable, "-m", "armature_pipeline.cli", *args,
               "--pipelines-dir", str(project / "pipelines")]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=project, timeout=300)
