"""The packages type-check with mypy, strict as configured in pyproject.toml, and the whole tree
passes ruff (pyflakes, pycodestyle, import order, bugbear): `make lint` in the suite."""

from __future__ import annotations

import subprocess
import sys

from tests.support.warehouse import REPO


def test_packages_type_check_with_mypy_strict() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_tree_passes_ruff() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
