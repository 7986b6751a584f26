"""SigV4 verification: which access key signed a request, proven the way AWS proves it.

A request is signed either in its `Authorization` header or in a presigned query string
(`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`,
`X-Amz-Signature`). Verifying one:

1. parse the signature; its credential scope must be `<key>/<date>/<any region>/<service>/
   aws4_request`, dated as the request is, where the service is the signing name of the API
   called (`identitystore`; `sso` for sso-admin and `sts` for STS, see aws/services.py);
   `host` (and `x-amz-target`, which names the operation) must be signed;
2. refuse a request dated more than 15 minutes from our clock, and an expired presigned URL;
3. find the access key (cached for a second, so a deleted key stops working within that);
4. make the canonical request from the request received (method, path, query, exactly the
   headers the client signed, and the SHA-256 of the body) and the string to sign;
5. HMAC the string to sign with the key's signing key (derived once per key, date and region,
   then cached) and compare with `hmac.compare_digest`.

Step 4 is SigV4's canonical form as botocore writes it: the path and query string go through
botocore's own functions, and the rest (header lines, payload hash, string to sign) is the few
lines of the specification. Calling botocore's `SigV4Auth.canonical_request` on a rebuilt
`AWSRequest` gives the same strings (tests/auth/test_canonical.py holds the two together on
arbitrary requests) but, measured in the server, made the verification cost half as much again
(about 87 µs of CPU per request instead of 58, where a whole request without authentication
costs about 250): too much for the budget of 20% of a request.

Failures are the AWS errors (400): MissingAuthenticationTokenException (no signature at all),
IncompleteSignatureException (a malformed one), UnrecognizedClientException (an unknown key, or
a session token: idstore keys are long-term keys), InvalidSignatureException (a wrong or stale
signature). Messages never include a signature or a secret.
"""

from __future__ import annotations

import functools
import hmac
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from hashlib import sha256
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth

from idstore import errors, wire
from idstore.aws.access import Principal
from idstore.config import Config
from idstore.serverkey import ServerKey, ServerKeyError
from idstore.store import Store
from idstore.store.credentials import AccessKey

SERVICE = "identitystore"
# The signing names of the APIs the gateway serves: identitystore, sso-admin, STS.
SERVICES = (SERVICE, "sso", "sts")
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600  # AWS's limit for X-Amz-Expires
KEY_CACHE_SECONDS = 1.0
_MAX_CACHED_KEYS = 10_000

_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"\d{8}T\d{6}Z", re.ASCII)
_KEY_ID = re.compile(r"[A-Za-z0-9_+=.@-]{1,128}")
# <access key id>/<date>/<region: any>/<service>/aws4_request
_CREDENTIAL = re.compile(
    r"([A-Za-z0-9_+=.@-]{1,128})/(\d{8})/([A-Za-z0-9_-]{1,64})/"
    r"(identitystore|sso|sts)/aws4_request",
    re.ASCII,
)
# Up to 64 header names (RFC 9110 tokens, lower-cased), separated by ";".
_HEADER_NAMES = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+(?:;[!#$%&'*+.^_`|~0-9a-z-]+){0,63}")
# A whole Authorization header as SDKs write it: key, date, region, signed headers, signature.
_USUAL = re.compile(
    ALGORITHM
    + " Credential="
    + _CREDENTIAL.pattern
    + ", ?SignedHeaders=("
    + _HEADER_NAMES.pattern
    + "), ?Signature=("
    + _SIGNATURE.pattern
    + ")",
    re.ASCII,
)

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)


def _missing() -> errors.Unauthenticated:
    return errors.Unauthenticated(
        "MissingAuthenticationTokenException", "Request is missing Authentication Token"
    )


def _incomplete(message: str) -> errors.Unauthenticated:
    return errors.Unauthenticated("IncompleteSignatureException", message)


def _invalid(message: str = _MISMATCH) -> errors.Unauthenticated:
    return errors.Unauthenticated("InvalidSignatureException", message)


def _unrecognized() -> errors.Unauthenticated:
    return errors.Unauthenticated(
        "UnrecognizedClientException", "The security token included in the request is invalid."
    )


class Signature(NamedTuple):  # a NamedTuple: built on every request, at a tenth of a dataclass
    """What a request claims about its signature, parsed but not yet verified."""

    access_key_id: str
    date: str  # the credential scope's date, YYYYMMDD
    region: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str  # YYYYMMDDTHHMMSSZ, as in the string to sign
    query: str  # the query string as signed (a presigned URL's without X-Amz-Signature)
    expires: int | None  # presigned URLs: seconds of validity from `timestamp`
    service: str = SERVICE  # the credential scope's service (one of SERVICES)


def parse(request: wire.Request) -> Signature:
    """The signature a request carries, in its Authorization header or its query string."""
    header = request.headers.get("authorization")
    presigned = "X-Amz-" in request.query and _has_query_signature(request.query)
    if header is not None and header.strip():
        if presigned:
            raise _incomplete(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or "
                "the Authorization header should be specified."
            )
        headers = request.headers
        usual = _USUAL.fullmatch(header)
        if usual is not None and "x-amz-date" in headers and "x-amz-security-token" not in headers:
            # The layout every SDK sends, checked in one match: no need to take it apart.
            key_id, date, region, service, names, signature = usual.groups()
            return _checked(
                Signature(
                    key_id,
                    date,
                    region,
                    tuple(names.split(";")),
                    signature,
                    headers["x-amz-date"],
                    request.query,
                    None,
                    service,
                ),
                request,
            )
        return _from_header(request, header)
    if presigned:
        return _from_query(request)
    raise _missing()


def _has_query_signature(query: str) -> bool:
    return any(
        p.startswith(("X-Amz-Algorithm=", "X-Amz-Signature=", "X-Amz-Credential="))
        for p in query.split("&")
    )


def _from_header(request: wire.Request, header: str) -> Signature:
    credential, signed_headers, signature = _header_fields(header.strip())
    headers = request.headers
    if "x-amz-date" in headers:
        timestamp = headers["x-amz-date"].strip()
    elif "date" in headers:
        timestamp = _from_http_date(headers["date"])
    else:
        raise _incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if "x-amz-security-token" in headers:
        raise _unrecognized()
    return _signature(credential, signed_headers, signature, timestamp, request)


def _header_fields(header: str) -> tuple[str, str, str]:
    """Credential, SignedHeaders and Signature of an Authorization header."""
    algorithm, _, rest = header.partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"Authorization header requires the {ALGORITHM} algorithm (SigV4).")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            if name in fields:
                raise _incomplete(f"Authorization header has '{name[:32]}' more than once.")
            fields[name] = value.strip()
    missing = [n for n in ("Credential", "Signature", "SignedHeaders") if not fields.get(n)]
    if missing:
        raise _incomplete(
            " ".join(f"Authorization header requires '{n}' parameter." for n in missing)
        )
    return fields["Credential"], fields["SignedHeaders"], fields["Signature"]


def _from_query(request: wire.Request) -> Signature:
    params: dict[str, str] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        if name.startswith("X-Amz-"):
            if name in params:
                raise _incomplete(f"Query parameter {name[:32]} is given more than once.")
            params[name] = value
    required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires")
    missing = [n for n in (*required, "X-Amz-SignedHeaders", "X-Amz-Signature") if n not in params]
    if missing:
        raise _incomplete(
            " ".join(f"Presigned URL requires the '{n}' query parameter." for n in missing)
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise _incomplete(f"X-Amz-Algorithm must be {ALGORITHM} (SigV4).")
    if "X-Amz-Security-Token" in params:
        raise _unrecognized()
    expires = params["X-Amz-Expires"]
    if (
        not (expires.isascii() and expires.isdigit())
        or not 1 <= int(expires) <= MAX_PRESIGNED_SECONDS
    ):
        raise _incomplete(
            f"X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGNED_SECONDS}."
        )
    # The client signed the query string it had before appending X-Amz-Signature.
    query = "&".join(p for p in request.query.split("&") if not p.startswith("X-Amz-Signature="))
    return _signature(
        params["X-Amz-Credential"],
        params["X-Amz-SignedHeaders"],
        params["X-Amz-Signature"],
        params["X-Amz-Date"],
        request,
        query=query,
        expires=int(expires),
    )


def _signature(
    credential: str,
    signed_headers: str,
    signature: str,
    timestamp: str,
    request: wire.Request,
    *,
    query: str | None = None,
    expires: int | None = None,
) -> Signature:
    scope = _CREDENTIAL.fullmatch(credential)
    if scope is None:
        raise _scope_error(credential)
    key_id, date, region, service = scope.groups()
    listed = signed_headers.lower()
    if not _HEADER_NAMES.fullmatch(listed):
        raise _incomplete("SignedHeaders must be a ';'-separated list of header names.")
    if not _SIGNATURE.fullmatch(signature):
        raise _invalid()
    parsed = Signature(
        key_id,
        date,
        region,
        tuple(listed.split(";")),
        signature,
        timestamp,
        request.query if query is None else query,
        expires,
        service,
    )
    return _checked(parsed, request)


def _checked(signature: Signature, request: wire.Request) -> Signature:
    """`signature`, if it signs what must be signed (its date is `check_time`'s to check)."""
    names = signature.signed_headers
    if "host" not in names:
        raise _incomplete("The Host header must be signed (SignedHeaders).")
    if "x-amz-target" in request.headers and "x-amz-target" not in names:
        raise _incomplete("The X-Amz-Target header must be signed (SignedHeaders).")
    return signature  # a signed header missing from the request: see string_to_sign


def _scope_error(credential: str) -> errors.Unauthenticated:
    """What is wrong with a credential scope that is not <key>/<date>/<region>/<service>/
    aws4_request."""
    parts = credential.split("/")
    if len(parts) != 5 or not _KEY_ID.fullmatch(parts[0]) or not parts[1].isdigit():
        return _incomplete(
            "Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request."
        )
    if parts[3] not in SERVICES or parts[4] != "aws4_request":
        return _invalid(f"Credential should be scoped to correct service: '{SERVICE}'.")
    return _invalid("Credential should be scoped to a valid region.")


def _from_http_date(value: str) -> str:
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime(SIGV4_TIMESTAMP)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise _incomplete("The Date header is not an HTTP date.") from None


def _epoch(timestamp: str) -> float:
    # The cache below holds only strings of a timestamp's length.
    at = _parsed_epoch(timestamp) if len(timestamp) == len("20250101T000000Z") else None
    if at is None:
        raise _incomplete("X-Amz-Date must be a valid date and time, as YYYYMMDDTHHMMSSZ.")
    return at


@functools.lru_cache(maxsize=256)  # requests arriving in the same second share a timestamp
def _parsed_epoch(timestamp: str) -> float | None:
    if not _TIMESTAMP.fullmatch(timestamp):
        return None
    try:
        return datetime(
            int(timestamp[0:4]),
            int(timestamp[4:6]),
            int(timestamp[6:8]),
            int(timestamp[9:11]),
            int(timestamp[11:13]),
            int(timestamp[13:15]),
            tzinfo=UTC,
        ).timestamp()
    except ValueError:
        return None


def _shown(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(SIGV4_TIMESTAMP)


def check_time(signature: Signature, now: float) -> None:
    """Refuse a signature dated over 15 minutes from `now`, an expired presigned URL, or one
    whose credential scope is of another day."""
    at = _epoch(signature.timestamp)
    if signature.date != signature.timestamp[:8]:
        raise _invalid("Credential should be scoped to the date of the request (X-Amz-Date).")
    if at > now + MAX_SKEW_SECONDS:
        raise _invalid(
            f"Signature not yet current: {signature.timestamp} is still later than "
            f"{_shown(now + MAX_SKEW_SECONDS)} ({_shown(now)} + 15 min.)"
        )
    if signature.expires is not None:
        if now > at + signature.expires:
            raise _invalid(
                f"Signature expired: the presigned URL of {signature.timestamp} was valid for "
                f"{signature.expires} seconds; it is now {_shown(now)}."
            )
    elif at < now - MAX_SKEW_SECONDS:
        raise _invalid(
            f"Signature expired: {signature.timestamp} is now earlier than "
            f"{_shown(now - MAX_SKEW_SECONDS)} ({_shown(now)} - 15 min.)"
        )


_BOTOCORE = SigV4Auth(None, SERVICE, "any")  # for its stateless path and query functions


@functools.lru_cache(maxsize=64)  # every identitystore request has the path "/"
def _canonical_path(path: str) -> str:
    return str(_BOTOCORE._normalize_url_path(path))


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    return str(_BOTOCORE._canonical_query_string_url(urlsplit("http://idstore/?" + query)))


@functools.lru_cache(maxsize=64)  # a client signs the same few headers on every request
def _signed_names(signed: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    names = tuple(sorted(set(signed)))
    return names, ";".join(names)


def canonical_request(request: wire.Request, signature: Signature) -> str:
    """The canonical request of what was received, over the headers the client signed."""
    headers = request.headers
    names, listed = _signed_names(signature.signed_headers)
    # Header lines: lower-case name, the value trimmed with inner runs of spaces collapsed.
    lines = [f"{name}:{' '.join(headers[name].split())}\n" for name in names]
    payload = sha256(request.body).hexdigest()
    # A signed X-Amz-Content-SHA256 stands in for the body; it must then be the body's digest
    # (UNSIGNED-PAYLOAD is not accepted).
    if "x-amz-content-sha256" in signature.signed_headers and (
        headers["x-amz-content-sha256"].strip() != payload
    ):
        raise _invalid("X-Amz-Content-SHA256 does not match the request body.")
    return "\n".join(
        (
            request.method.upper(),
            _canonical_path(request.path or "/"),
            _canonical_query(signature.query),
            "".join(lines),
            listed,
            payload,
        )
    )


def string_to_sign(request: wire.Request, signature: Signature) -> str:
    """The string the client must have signed."""
    try:
        canonical = canonical_request(request, signature).encode()
    except KeyError as missing:
        raise _incomplete(
            f"The signed header {str(missing.args[0])[:64]!r} is missing from the request."
        ) from None
    except (ValueError, UnicodeError):  # a path or query string that cannot be taken apart
        raise _invalid() from None
    scope = f"{signature.date}/{signature.region}/{signature.service}/aws4_request"
    return f"{ALGORITHM}\n{signature.timestamp}\n{scope}\n{sha256(canonical).hexdigest()}"


def signing_key(secret: str, date: str, region: str, service: str = SERVICE) -> bytes:
    """The SigV4 signing key of a secret for one date, region and service."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), sha256).digest()
    return key


class _Entry:
    """A known access key: its principal, its secret, and the signing keys derived from it."""

    __slots__ = ("principal", "sealed", "secret", "signing_keys")

    def __init__(self, principal: Principal, sealed: str, secret: str) -> None:
        self.principal = principal
        self.sealed = sealed
        self.secret = secret
        self.signing_keys: dict[tuple[str, str, str], bytes] = {}

    def signing_key(self, date: str, region: str, service: str) -> bytes:
        found = self.signing_keys.get((date, region, service))
        if found is None:
            if len(self.signing_keys) >= 16:
                self.signing_keys.clear()
            found = self.signing_keys[date, region, service] = signing_key(
                self.secret, date, region, service
            )
        return found


class SigV4Access:
    """Authenticates requests signed with the access keys in a Store."""

    def __init__(
        self,
        store: Store,
        config: Config,
        server_key: ServerKey | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._account_id = config.account_id
        self._server_key = server_key or store.open_server_key(config).key
        self._clock = clock
        # access key id -> (monotonic expiry, entry or None for an unknown key)
        self._cache: dict[str, tuple[float, _Entry | None]] = {}

    def authenticate(self, request: wire.Request, service: str = SERVICE) -> Principal:
        """The principal of the key that signed `request` for `service` (its signing name)."""
        signature = parse(request)
        if signature.service != service:
            raise _invalid(f"Credential should be scoped to correct service: '{service}'.")
        check_time(signature, self._clock())
        entry = self._entry(signature.access_key_id)
        if entry is None:
            raise _unrecognized()
        expected = hmac.digest(
            entry.signing_key(signature.date, signature.region, signature.service),
            string_to_sign(request, signature).encode(),
            "sha256",
        ).hex()
        if not hmac.compare_digest(expected.encode(), signature.signature.encode()):
            raise _invalid()
        return entry.principal

    def _entry(self, key_id: str) -> _Entry | None:
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        key = self._store.get_access_key(key_id)
        entry = None if key is None else self._load(key, cached[1] if cached else None)
        if len(self._cache) >= _MAX_CACHED_KEYS:
            self._cache.clear()
        self._cache[key_id] = (now + KEY_CACHE_SECONDS, entry)
        return entry

    def _load(self, key: AccessKey, previous: _Entry | None) -> _Entry | None:
        principal = Principal(
            f"arn:aws:iam::{self._account_id}:user/{key.name}",
            key.access_key_id,
            key.stores,
            key.read_only,
        )
        if previous is not None and previous.sealed == key.sealed_secret:
            previous.principal = principal  # same secret: keep its derived signing keys
            return previous
        try:
            secret = key.secret(self._server_key)
        except ServerKeyError:
            return None  # sealed under another server key: the key cannot be used
        return _Entry(principal, key.sealed_secret, secret)
