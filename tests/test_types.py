"""The packages type-check with mypy (strict_optional on), as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_packages_type_check_with_mypy() -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
