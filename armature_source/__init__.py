"""dlt source for Armature's REST API."""

from armature_source.source import RESOURCE_ALIASES, RESOURCES, armature_source

__all__ = ["RESOURCE_ALIASES", "RESOURCES", "armature_source"]
