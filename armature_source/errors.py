"""Errors raised by the Armature source.

    ArmatureError
    ├── ConfigError (also ValueError)   a setting is missing or wrong; nothing was loaded
    │   ├── AuthError                   the host rejected the API key (401)
    │   ├── OrganizationMismatch        the key answers for another organization than the data's
    │   └── HostUnreachable             no answer at all from the host at the base URL
    ├── ApiError                        the host answered, but not with what we can use
    │   ├── ForbiddenError              403 forbidden_role
    │   ├── FeatureDisabledError        403 feature_disabled (MCP Analytics is off)
    │   ├── NotFoundError               404 (a run or session gone between list and detail)
    │   └── ContractError               a body we cannot read (no array, runaway paging)
    │       └── BodyTooLargeError           a body beyond max_body_bytes, cut off unread
    └── TransientError                  429/5xx/transport errors that outlived every retry

Every message names what failed, where, and what to do. No message carries the API key.
"""

from __future__ import annotations


class ArmatureError(Exception):
    """Base of every error the source raises."""


class ConfigError(ArmatureError, ValueError):
    """A setting is missing or wrong; the load did not start."""


class AuthError(ConfigError):
    """The host rejected the API key."""


class OrganizationMismatch(ConfigError):
    """The key answers for another organization than the one whose data the pipeline holds."""


class HostUnreachable(ConfigError):
    """The host never answered: a wrong base URL, or the host is down right now."""


class ApiError(ArmatureError):
    """The host answered with something the source cannot use."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ForbiddenError(ApiError):
    """The key's role may not read this endpoint."""


class FeatureDisabledError(ApiError):
    """MCP Analytics is not enabled for the organization."""


class NotFoundError(ApiError):
    """The resource does not exist (any more)."""


class ContractError(ApiError):
    """The body does not have a shape the source can read."""


class BodyTooLargeError(ContractError):
    """A body larger than the client's cap; it was cut off while streaming, never parsed."""


class TransientError(ArmatureError):
    """A temporary failure (rate limit, server error, network) that outlived its retries."""
