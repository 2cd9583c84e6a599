"""Error answers: the documented body, the exception handlers raise through, and 400s naming a field.

Every error is `{"error": {"code", "message", "details"}}` (`details` optional), the same in
both dialects; the status follows from the code (`vocabulary.ERROR_STATUS`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from armature_sim import envelopes
from armature_sim.vocabulary import ERROR_STATUS


class ApiError(Exception):
    """An error answer, raised anywhere under a handler and answered by `api_error`."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def invalid(name: str, message: str, **details: Any) -> ApiError:
    """A 400 validation_failed naming the field (nested members as `criteria[1].isRequired`)."""
    return ApiError("validation_failed", message, {"field": name, **details})


def error_response(code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """An error answer; the body is the same in both dialects."""
    error: envelopes.ErrorDetail = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    body: envelopes.Error = {"error": error}
    text = json.dumps(body, separators=(",", ":"))
    return Response(text, status_code=ERROR_STATUS[code], media_type="application/json")


async def api_error(request: Request, exc: Exception) -> Response:
    """Answer an `ApiError`."""
    assert isinstance(exc, ApiError)
    return error_response(exc.code, exc.message, exc.details)


async def routing_error(request: Request, exc: Exception) -> Response:
    """Answer the router's 404 and 405 in the documented body; a 405 keeps its `Allow`."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        response = error_response("method_not_allowed", f"{request.method} is not served on {request.url.path}.")
        response.headers.update(exc.headers or {})  # Allow, as RFC 9110 asks
        return response
    return error_response("not_found", f"No such path: {request.url.path}.")


async def crash(request: Request, exc: Exception) -> Response:
    """Answer a bug in the simulator as a 500 naming it."""
    return error_response("internal", f"The simulator failed: {type(exc).__name__}: {exc}")


EXCEPTION_HANDLERS = {ApiError: api_error, HTTPException: routing_error, Exception: crash}
