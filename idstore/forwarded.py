"""Which client a request is from: forwarded headers, trusted only from the proxies named.

Behind a reverse proxy, the TCP peer is the proxy; the client's address is in a header the
proxy adds (`X-Forwarded-For`, or RFC 7239's `Forwarded: for=...`). Anyone can send those
headers, so they are believed only when the peer is one of the operator's proxies
(`Config.trusted_proxies`: addresses or CIDR blocks; none by default), and only the one header
the operator names (`Config.proxy_header`: `x-forwarded-for` or `forwarded`), the one their
proxy sets. From any other peer every forwarded header (`X-Forwarded-For`,
`X-Forwarded-Proto`, `X-Forwarded-Host`, `Forwarded`) is dropped before the request reaches a
front end, so it can neither pass a source-IP allow-list nor appear in a log or a URL.

From a trusted peer, the header's addresses are read from the right (each proxy appends the
address it received the request from): trusted proxies are skipped, and the first address that
is not one is the client. An entry that is not an IP address (`unknown`, an obfuscated name)
is taken as the client as it is (bounded), so it matches no allow-list.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, MutableMapping

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_FORWARDED = ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded")
_MAX_ENTRY = 64


class ForwardedHeaders:
    """Resolves each request's client address (see the module docstring)."""

    def __init__(self, proxies: Iterable[str], header: str = "x-forwarded-for") -> None:
        self._networks = [ipaddress.ip_network(p, strict=False) for p in proxies]
        self._header = header
        # Whether any peer is trusted; if none is, the names a reader of the headers may drop
        # at once (the app does, as it reads them), and `client` is the peer.
        self.trusts_any = bool(self._networks)
        self.always_dropped = frozenset() if self.trusts_any else frozenset(_FORWARDED)

    def client(self, peer: str | None, headers: MutableMapping[str, str]) -> str | None:
        """The client's address; drops the forwarded headers of a peer that is not trusted."""
        if not self._trusted(peer):
            for name in _FORWARDED:
                headers.pop(name, None)
            return peer
        value = headers.get(self._header)
        if not value:
            return peer
        entries = _forwarded_for(value) if self._header == "forwarded" else value.split(",")
        client = peer
        for entry in reversed(entries):
            client = _address(entry)
            if not self._trusted(client):
                break
        return client

    def _trusted(self, address: str | None) -> bool:
        if not self._networks or address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._networks)


def _forwarded_for(value: str) -> list[str]:
    """The `for=` of each element of a `Forwarded` header (`unknown` where there is none)."""
    found = []
    for element in value.split(","):
        node = "unknown"
        for pair in element.split(";"):
            name, _, text = pair.strip().partition("=")
            if name.strip().lower() == "for":
                node = text.strip()
        found.append(node)
    return found


def _address(entry: str) -> str:
    """An entry as an address: quotes, brackets and ports removed; bounded in length."""
    text = entry.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text[:_MAX_ENTRY] or "unknown"
