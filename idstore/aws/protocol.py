"""AWS JSON 1.1 on the wire: requests in, results and errors out.

Requests: `POST` with `X-Amz-Target: AWSIdentityStore.<Operation>` and a JSON object body
(`application/x-amz-json-1.1` or `application/json`; an empty body means `{}`). Anything else
is a protocol error, never a 5xx: an unknown target is `UnknownOperationException`, a body
that is not a JSON object is `SerializationException`, an oversized body is
`ValidationException`.

Responses: 200 with the output as JSON, or an error body
`{"__type", "Message", <modelled members>, "RequestId"}` with the `X-Amzn-ErrorType` header.
Every client error is HTTP 400, as real AWS answers (the Smithy model's 404/409/... codes are
not what the service sends); InternalServerException is 500 (with `RetryAfterSeconds` and
the `Retry-After` and `x-amz-retry-after` headers when a retry is safe: botocore's standard
retry mode honours the last). This module holds the one table
from domain errors to AWS error shapes.
"""

from __future__ import annotations

from typing import Any

import orjson

from idstore import errors, wire

CONTENT_TYPE = "application/x-amz-json-1.1"

_CLIENT_ERROR = 400
_SERVER_ERROR = 500


def check_size(request: wire.Request, max_body: int) -> None:
    """ValidationException for a body over the limit. Checked before anything else, the
    signature included: the server reads no more than the limit (and a byte), so the
    signature of an oversized body cannot be checked, and the size is the true answer."""
    if len(request.body) > max_body:
        raise errors.InvalidInput(f"Request body is too large: the limit is {max_body} bytes.")


def parse(
    request: wire.Request, target_prefix: str, operations: frozenset[str]
) -> tuple[str, dict[str, Any]]:
    """The operation name and the parsed JSON body of an AWS JSON 1.1 request (whose size
    `check_size` has checked)."""
    target = request.headers.get("x-amz-target", "")
    prefix, _, operation = target.rpartition(".")
    if request.method != "POST" or prefix != target_prefix or operation not in operations:
        shown = target or "(none)"
        raise errors.UnknownOperation(f"Unknown operation: X-Amz-Target {shown[:200]!r}.")
    if not request.body.strip():
        return operation, {}
    try:
        params = orjson.loads(request.body)
    except orjson.JSONDecodeError as error:
        raise errors.MalformedRequest(f"Request body is not valid JSON: {error}") from None
    if not isinstance(params, dict):
        raise errors.MalformedRequest("Request body must be a JSON object.")
    return operation, params


def success(result: dict[str, Any] | bytes, request_id: str) -> wire.Response:
    body = result if isinstance(result, bytes) else orjson.dumps(result)
    return wire.Response(200, body, {"content-type": CONTENT_TYPE, "x-amzn-requestid": request_id})


def failure(error: errors.IdstoreError, request_id: str) -> wire.Response:
    code, status, members = _describe(error)
    response = error_response(status, code, error.message, request_id, members)
    if isinstance(error, errors.Throttled | errors.Unavailable):
        response.headers["retry-after"] = str(error.retry_after)
    if isinstance(error, errors.Unavailable):  # botocore's standard mode waits this long
        response.headers["x-amz-retry-after"] = str(error.retry_after * 1000)
    return response


def error_response(
    status: int, code: str, message: str, request_id: str, members: dict[str, Any] | None = None
) -> wire.Response:
    """An error in the AWS JSON shape; also for the HTTP layer's refusals (see app.py)."""
    body = {"__type": code, "Message": message, **(members or {}), "RequestId": request_id}
    headers = {
        "content-type": CONTENT_TYPE,
        "x-amzn-requestid": request_id,
        "x-amzn-errortype": code,
    }
    return wire.Response(status, orjson.dumps(body), headers)


def _describe(error: errors.IdstoreError) -> tuple[str, int, dict[str, Any]]:
    """The one table from domain errors to (AWS error code, HTTP status, modelled members)."""
    match error:
        case errors.MalformedRequest():
            return "SerializationException", _CLIENT_ERROR, {}
        case errors.InvalidInput():
            return "ValidationException", _CLIENT_ERROR, {}
        case errors.UnknownOperation():
            return "UnknownOperationException", _CLIENT_ERROR, {}
        case errors.NotFound(resource_type=kind, resource_id=rid):
            members: dict[str, Any] = {"ResourceType": kind}
            if rid:
                members["ResourceId"] = rid
            return "ResourceNotFoundException", _CLIENT_ERROR, members
        case errors.Conflict(reason=reason):
            return "ConflictException", _CLIENT_ERROR, {"Reason": reason}
        case errors.AccessDenied():
            return "AccessDeniedException", _CLIENT_ERROR, {}
        case errors.QuotaExceeded():
            return "ServiceQuotaExceededException", _CLIENT_ERROR, {}
        case errors.Throttled(retry_after=seconds):
            return "ThrottlingException", _CLIENT_ERROR, {"RetryAfterSeconds": seconds}
        case errors.Unauthenticated(code=code):
            return code, _CLIENT_ERROR, {}
        case errors.Unavailable(retry_after=seconds):
            return "InternalServerException", _SERVER_ERROR, {"RetryAfterSeconds": seconds}
        case _:
            return "InternalServerException", _SERVER_ERROR, {}
