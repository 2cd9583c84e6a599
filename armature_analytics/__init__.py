"""Reporting views and column comments over the loaded tables, and the data dictionary."""

from armature_analytics.comments import apply_comments
from armature_analytics.views import apply_views, drop_views

__all__ = ["apply_comments", "apply_views", "drop_views"]
