"""Which AWS API a request is for: identitystore, sso-admin or STS, told from the request alone.

All three share one endpoint (the server's URL, or AWS's hosts in the test mode), as Identity
Center tools expect when given one endpoint for each of them (Terraform's `endpoints` block,
awsideman's STS call before every command). The request says which it is for:

    X-Amz-Target: AWSIdentityStore.<Operation>     identitystore (AWS JSON 1.1)
    X-Amz-Target: SWBExternalService.<Operation>   sso-admin (AWS JSON 1.1)
    no X-Amz-Target, and a form body (application/x-www-form-urlencoded) or an `Action`
    query parameter, or a SigV4 credential scope naming `sts`
                                                   STS (AWS query protocol, XML)

A request without a target whose credential scope names `sso` is sso-admin's (it gets
sso-admin's UnknownOperationException); everything else is identitystore's, whose gateway
answers it as before. The check is a header look-up and a prefix test, so identitystore
requests, the hot path, pay nothing measurable for it.
"""

from __future__ import annotations

from typing import Literal

from idstore import wire

Api = Literal["identitystore", "sso-admin", "sts"]

SSO_ADMIN_PREFIX = "SWBExternalService."
_FORM = "application/x-www-form-urlencoded"


def api_of(request: wire.Request) -> Api:
    """The API `request` is addressed to."""
    headers = request.headers
    target = headers.get("x-amz-target")
    if target is not None:
        return "sso-admin" if target.startswith(SSO_ADMIN_PREFIX) else "identitystore"
    if headers.get("content-type", "").split(";")[0].strip().lower() == _FORM:
        return "sts"
    if request.query.startswith("Action=") or "&Action=" in request.query:
        return "sts"
    authorization = headers.get("authorization", "")
    if "/sts/aws4_request" in authorization or "%2Fsts%2Faws4_request" in request.query:
        return "sts"
    if "/sso/aws4_request" in authorization or "%2Fsso%2Faws4_request" in request.query:
        return "sso-admin"
    return "identitystore"
