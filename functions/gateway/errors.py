"""Lambda-shaped errors, and the emulator's errors put into Lambda's shape.

botocore's rest-json parser reads the error code from the `X-Amzn-ErrorType`
header (or a `__type` body field); the emulator sends neither (only a `Type`
body field), so without this every emulator error would reach boto3 as a bare
HTTP status code ("404").
"""

from __future__ import annotations

import json

# Error codes and HTTP statuses exactly as botocore's Lambda model declares them.
STATUS_OF = {
    "InvalidParameterValueException": 400,
    "CallbackTimeoutException": 400,
    "ResourceNotFoundException": 404,
    "ResourceConflictException": 409,
    "TooManyRequestsException": 429,
    "ServiceException": 500,
}


class GatewayError(Exception):
    """An error answered in Lambda's shape."""

    def __init__(self, error_type: str, message: str, status: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status or STATUS_OF.get(error_type, 400)
        self.headers = headers or {}
        self.extra: dict = {}


def invalid(message: str) -> GatewayError:
    return GatewayError("InvalidParameterValueException", message)


def not_found(message: str = "Durable Execution does not exist") -> GatewayError:
    return GatewayError("ResourceNotFoundException", message)


def conflict(message: str) -> GatewayError:
    return GatewayError("ResourceConflictException", message)


def error_body(error_type: str, message: str, extra: dict | None = None) -> bytes:
    return json.dumps(
        {"Type": "User", "Message": message, "message": message, "__type": error_type, **(extra or {})}
    ).encode()


def emulator_error(status: int, payload: bytes) -> GatewayError:
    """The emulator's error answer as a GatewayError with Lambda's code and status."""
    try:
        detail = json.loads(payload)
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    message = detail.get("message") or detail.get("Message") or payload.decode("utf-8", "replace")[:1000]
    error_type = detail.get("Type") or detail.get("__type") or ""
    if error_type == "CallbackTimeoutException":
        return GatewayError(error_type, message, 400)  # the emulator says 408; the model says 400
    if error_type in STATUS_OF:
        return GatewayError(error_type, message, STATUS_OF[error_type])
    if status == 404:
        return GatewayError("ResourceNotFoundException", message, 404)
    if status == 409:
        return GatewayError("ResourceConflictException", message, 409)
    if 400 <= status < 500:
        return GatewayError(error_type or "InvalidParameterValueException", message, status)
    return GatewayError("ServiceException", message, 500 if status < 500 else status)
