"""dlt source for Armature's REST API."""

__version__ = "0.1.0"

from armature_source.source import RESOURCE_ALIASES, RESOURCES, armature_source  # noqa: E402

__all__ = ["RESOURCE_ALIASES", "RESOURCES", "armature_source", "__version__"]
