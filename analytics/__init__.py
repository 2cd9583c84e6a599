"""Reporting views and column comments over the loaded tables, and the data dictionary."""

from analytics.comments import apply_comments
from analytics.views import apply_views, drop_views

__all__ = ["apply_comments", "apply_views", "drop_views"]
