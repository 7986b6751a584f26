"""STS `GetCallerIdentity`, the call Identity Center tools make before anything else.

awsideman makes it before every command, and Terraform's AWS provider validates its credentials
with it; both then go on to identitystore and sso-admin on the same endpoint. idstore answers
it for the access key that signed the request, exactly as the other APIs see that key:

    Account   the server's account id (`--account-id`, IDSTORE_ACCOUNT_ID)
    Arn       the key's principal ARN: arn:aws:iam::<account>:user/<key name> (local mode:
              user/<access key id>, or the account's root ARN for an unsigned request)
    UserId    the IAM-style unique id of that user: `AIDA` and 17 characters derived from the
              ARN, stable for the key's name (the account id for root, as AWS answers)

The query protocol: the parameters come form-encoded in a POST body (or in the query string),
`Action=GetCallerIdentity&Version=2011-06-15`; the answer is XML in STS's namespace. Requests
are authenticated like every other (with `--auth sigv4`, signed for the service `sts`), and
refused in STS's error shape (`<ErrorResponse><Error><Type>…<Code>…<Message>…`), with STS's
codes for bad credentials (`InvalidClientTokenId`, `SignatureDoesNotMatch`, …). Any other
action is `InvalidAction`, naming the one action idstore serves.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from idstore import errors, wire
from idstore.aws.access import Principal

log = logging.getLogger("idstore.aws")

SIGNING_NAME = "sts"
VERSION = "2011-06-15"
NAMESPACE = f"https://sts.amazonaws.com/doc/{VERSION}/"
ACTIONS = ("GetCallerIdentity",)
_CONTENT_TYPE = "text/xml"

Authenticate = Callable[[wire.Request, str], Principal]

# The AWS JSON gateway's codes for bad credentials, as STS spells them (and its HTTP status).
_AUTH_CODES = {
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
    "IncompleteSignatureException": ("IncompleteSignature", 400),
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
}


class InvalidAction(errors.InvalidInput):
    """An action (or API version) of STS that idstore does not serve."""


def user_id(principal: Principal, account_id: str) -> str:
    """The IAM-style unique id of `principal`: the account id for root, else `AIDA…`."""
    if principal.arn.endswith(":root"):
        return account_id
    digest = hashlib.sha256(principal.arn.encode()).digest()
    return "AIDA" + base64.b32encode(digest).decode()[:17]


class Sts:
    """Serves STS GetCallerIdentity for the gateway."""

    def __init__(self, authenticate: Authenticate, account_id: str, max_body: int) -> None:
        self._authenticate = authenticate
        self._account_id = account_id
        self._max_body = max_body

    def handle(
        self, request: wire.Request, request_id: str
    ) -> tuple[wire.Response, str | None, str | None]:
        """The response, and the action and principal for the log line (None when not known)."""
        action: str | None = None
        principal: Principal | None = None
        try:
            principal = self._authenticate(request, SIGNING_NAME)
            action = self._action(request)
            body = self._caller_identity(principal, request_id)
            headers = {"content-type": _CONTENT_TYPE, "x-amzn-requestid": request_id}
            response = wire.Response(200, body, headers)
        except errors.IdstoreError as error:
            response = failure(error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            response = failure(
                errors.InternalError("The server could not complete the request."), request_id
            )
        return response, action, principal.arn if principal else None

    def _action(self, request: wire.Request) -> str:
        if len(request.body) > self._max_body:
            raise errors.InvalidInput(
                f"Request body is {len(request.body)} bytes; the limit is {self._max_body} bytes."
            )
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        if request.body:
            params.update(
                parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            )
        action = params.get("Action", "")
        if action not in ACTIONS:
            shown = repr(action[:64]) if action else "(none)"
            raise InvalidAction(
                f"Action {shown} is not served here: idstore serves the STS action "
                f"{', '.join(ACTIONS)} (and the identitystore and sso-admin APIs)."
            )
        version = params.get("Version", VERSION)
        if version != VERSION:
            raise InvalidAction(
                f"Could not find operation {action} for version {version[:32]}: "
                f"idstore serves STS version {VERSION}."
            )
        return action

    def _caller_identity(self, principal: Principal, request_id: str) -> bytes:
        result = (
            f"<Arn>{escape(principal.arn)}</Arn>"
            f"<UserId>{escape(user_id(principal, self._account_id))}</UserId>"
            f"<Account>{escape(self._account_id)}</Account>"
        )
        return (
            f'<GetCallerIdentityResponse xmlns="{NAMESPACE}">'
            f"<GetCallerIdentityResult>{result}</GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>"
        ).encode()


def _describe(error: errors.IdstoreError) -> tuple[str, int]:
    """STS's error code and HTTP status for a domain error."""
    match error:
        case errors.Unauthenticated(code=code):
            return _AUTH_CODES.get(code, (code, 403))
        case InvalidAction():
            return "InvalidAction", 400
        case errors.InvalidInput():
            return "ValidationError", 400
        case errors.AccessDenied():
            return "AccessDenied", 403
        case errors.Throttled():
            return "Throttling", 400
        case _:
            return "InternalFailure", 500


def failure(error: errors.IdstoreError, request_id: str) -> wire.Response:
    """An error in the query protocol's XML shape."""
    code, status = _describe(error)
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return wire.Response(
        status, body, {"content-type": _CONTENT_TYPE, "x-amzn-requestid": request_id}
    )
