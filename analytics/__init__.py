"""Reporting views over the loaded tables, and the data dictionary."""

from analytics.views import apply_views, drop_views

__all__ = ["apply_views", "drop_views"]
