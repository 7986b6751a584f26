"""The kinds of bad SCIM request that RFC 7644 §3.12 names, as domain errors.

Each is an `InvalidInput` (or `MalformedRequest`), so anything that handles domain errors
handles them; `endpoints.py` maps each class to its HTTP status and `scimType` in its one
error table. Two more describe the HTTP surface rather than the input: an endpoint that does
not exist, and a method an endpoint does not allow.
"""

from __future__ import annotations

from idstore.errors import IdstoreError, InvalidInput, MalformedRequest


class InvalidSyntax(MalformedRequest):
    """The body is not JSON, not an object, or not shaped like the request it claims to be."""


class InvalidFilter(InvalidInput):
    """A filter that does not parse, or that asks for more than idstore serves."""


class InvalidPath(InvalidInput):
    """A PATCH path that does not parse or names no supported attribute."""


class NoTarget(InvalidInput):
    """A PATCH operation with nothing to apply to (e.g. `remove` without a path)."""


class Mutability(InvalidInput):
    """A change to an attribute that cannot be changed (`id`, `meta`) or removed (`active`)."""


class UnknownEndpoint(IdstoreError):
    """No such SCIM endpoint (404)."""


class MethodNotAllowed(IdstoreError):
    """The endpoint exists but does not serve this HTTP method (405)."""


class NotImplementedHere(IdstoreError):
    """An RFC 7644 endpoint AWS does not offer: /Bulk and /Me (501)."""


class UnsupportedMediaType(IdstoreError):
    """A body whose Content-Type is not JSON (415)."""


class PayloadTooLarge(IdstoreError):
    """A body over the configured limit (413)."""


class InvalidCursor(InvalidInput):
    """A cursor that was not issued for this request (RFC 9865 §2.1, `invalidCursor`)."""


class InvalidCount(InvalidInput):
    """A `count` that is not an integer, in a cursor-paged request (RFC 9865, `invalidCount`)."""
