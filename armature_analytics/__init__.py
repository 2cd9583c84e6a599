"""Reporting views and column comments over the loaded tables, and the data dictionary.

The names below are imported when first used: the views bring sqlglot, which a command that
only reads a helper from here (`held_file`) should not pay for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from armature_analytics.comments import apply_comments
    from armature_analytics.views import apply_views, drop_views

__all__ = ["apply_comments", "apply_views", "drop_views"]
_HOMES = {"apply_comments": "comments", "apply_views": "views", "drop_views": "views"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"armature_analytics.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'armature_analytics' has no attribute {name!r}")
