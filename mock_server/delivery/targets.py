"""Where the mock may send (hub callbacks, MaCo backends): outbound calls are a security boundary. Pure functions.

By default only loopback (127.0.0.0/8, ::1, `localhost`). The allow-list (`PRUEFSTAND_DELIVERY_ALLOW_HOSTS`) adds
host names (`*` wildcards: `*.buyer.example`, or `*` for any name) and addresses or networks (`10.1.2.3`,
`10.0.0.0/8`). An address literal in a private, link-local (cloud metadata: 169.254.169.254), shared, multicast or
reserved range is refused unless an address or network entry names it: a name pattern, even `*`, never admits one.
Every URL is checked when it is registered (400 naming the field) and again before each delivery.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    names: tuple[str, ...] = ()
    networks: tuple[Network, ...] = ()

    @classmethod
    def from_patterns(cls, patterns: Sequence[str]) -> TargetPolicy:
        """Allow-list entries: a network (`10.0.0.0/8`), an address (`10.1.2.3`, `[fd00::1]`), a host-name pattern."""
        names: list[str] = []
        networks: list[Network] = []
        for raw in patterns:
            entry = raw.strip().strip("[]").lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.append(entry)
        return cls(tuple(names), tuple(networks))

    def describe(self) -> str:
        allowed = ["loopback", *self.names, *(str(n) for n in self.networks)]
        return ", ".join(allowed)

    def refusal(self, url: str) -> str | None:
        """Why the mock may not send to `url` (None: it may)."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018  (raises on a port that is no number or out of range)
        except ValueError as exc:
            return f"{_shown(url)} is not a valid URL ({exc})"
        if parts.scheme.lower() not in _SCHEMES:
            return f"{_shown(url)} is not an http or https URL"
        if not host:
            return f"{_shown(url)} names no host"
        if parts.username is not None or parts.password is not None:
            return f"{_shown(url)} carries credentials in the URL; use the token field instead"
        address = _address(host)
        if address is not None:
            if address.is_loopback or any(address in network for network in self.networks):
                return None
            kind = "a private or reserved address" if _internal(address) else "an address"
            return f"{kind} {host} is not on the delivery allow-list ({self.describe()})"
        name = host.rstrip(".").lower()
        if name == "localhost" or name.endswith(".localhost"):
            return None
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.names):
            return None
        return f"host {name} is not on the delivery allow-list ({self.describe()})"


def _address(host: str) -> Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.1 is 10.0.0.1
    return mapped or address


def _internal(address: Address) -> bool:
    return (
        address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or address in ipaddress.ip_network("100.64.0.0/10")
    )


def _shown(url: str, limit: int = 200) -> str:
    return url if len(url) <= limit else url[:limit] + "…"
