"""The packages type-check with mypy (strict_optional on), as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys

from tests.support.warehouse import REPO


def test_packages_type_check_with_mypy() -> None:
    root = REPO
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
