"""The floor: a bare ASGI app that answers every request with a canned DescribeUser body.

It is what any Python HTTP service pays before doing any work (uvicorn, httptools, uvloop,
one response), measured with the same load generator in the same run as idstore and moto.
Run as `uvicorn benchmarks.floor_app:app`.
"""

from __future__ import annotations

from typing import Any

BODY = (
    b'{"IdentityStoreId":"d-0123456789","UserId":"0123456789-00000000-0000-4000-8000-000000000000",'
    b'"UserName":"floor","DisplayName":"Floor","Name":{"GivenName":"F","FamilyName":"L"}}'
)
HEADERS = [
    (b"content-type", b"application/x-amz-json-1.1"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
