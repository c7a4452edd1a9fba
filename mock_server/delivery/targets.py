"""Where the mock may send (hub callbacks, MaCo backends): outbound calls are a security boundary. One policy for
every registration and every delivery.

By default only loopback (127.0.0.0/8, ::1, `localhost` and `*.localhost` when they resolve to loopback). The
allow-list (`PRUEFSTAND_DELIVERY_ALLOW_HOSTS`) adds host names (`*` wildcards: `*.buyer.example`, or `*` for any name)
and addresses or networks (`10.1.2.3`, `10.0.0.0/8`, `fd00::/8`); each entry is checked when the mock starts. An
address in a private, link-local (cloud metadata: 169.254.169.254), shared, multicast or reserved range is refused
unless an address or network entry names it: a name pattern, even `*`, never admits one.

Addresses are read in every form a resolver takes (`2852039166`, `0xa9fea9fe`, `169.254.43518`, `0251.0376.0251.0376`,
`127.1`, a trailing dot), never taken for names. A name is resolved when a URL is registered (a name that does not
resolve now is kept: it is resolved again at delivery) and at every delivery, where the connection goes to the
address that was checked (delivery/pinning.py), so a second lookup cannot answer differently. Control characters
and spaces in a URL are refused.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from pruefstand.mock_server.kernel.errors import SettingsError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]  # a host and port to the addresses it resolves to (OSError: it does not)
_SCHEMES = ("http", "https")
_NUMERIC = re.compile(r"[0-9a-fA-FxX.]+")
_NAME_PATTERN = re.compile(r"(\*|\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9*]([a-z0-9*-]*[a-z0-9*])?)*\.?")
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for host:port (TCP), in its order."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


REGISTRATION_LOOKUP_SECONDS = 2.0
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pruefstand-lookup")


def _bounded(resolve: Resolver, host: str, port: int) -> list[str]:
    """A lookup at registration, given at most REGISTRATION_LOOKUP_SECONDS (a registration is answered in a request:
    a resolver that hangs must not hold it); one that takes longer counts as not resolvable now (checked again, in
    full, at each delivery)."""
    try:
        return _lookups.submit(resolve, host, port).result(timeout=REGISTRATION_LOOKUP_SECONDS)
    except FutureTimeout as exc:
        raise OSError(f"no answer from the resolver within {REGISTRATION_LOOKUP_SECONDS:g} s") from exc


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    names: tuple[str, ...] = ()
    networks: tuple[Network, ...] = ()
    resolve: Resolver = system_resolver

    @classmethod
    def from_patterns(cls, patterns: Sequence[str], resolve: Resolver = system_resolver) -> TargetPolicy:
        """Allow-list entries: a network (`10.0.0.0/8`), an address (`10.1.2.3`, `[fd00::1]`), a host-name pattern
        (`*.buyer.example`, `*`); anything else is a SettingsError naming the entry."""
        names: list[str] = []
        networks: list[Network] = []
        for raw in patterns:
            entry = raw.strip().lower()
            if not entry:
                continue
            bare = entry[1:-1] if entry.startswith("[") and entry.endswith("]") else entry
            if "://" in entry:
                raise SettingsError(f"delivery_allow_hosts: {raw!r} is a URL; give its host (e.g. 10.0.0.1)")
            if "/" in bare or _address(bare) is not None:
                try:
                    networks.append(ipaddress.ip_network(str(_address(bare) or bare), strict=False))
                except ValueError as exc:
                    raise SettingsError(f"delivery_allow_hosts: {raw!r} is not a network ({exc})") from exc
            elif entry == "*" or _NAME_PATTERN.fullmatch(entry):
                names.append(entry.rstrip("."))
            else:
                raise SettingsError(
                    f"delivery_allow_hosts: {raw!r} is neither a host name pattern (e.g. *.buyer.example), an address "
                    "nor a network (e.g. 10.0.0.0/8); give hosts, not URLs"
                )
        return cls(tuple(names), tuple(networks), resolve)

    def describe(self) -> str:
        allowed = ["loopback", *self.names, *(str(n) for n in self.networks)]
        return ", ".join(allowed)

    def refusal(self, url: str, *, resolve: bool = True) -> str | None:
        """Why the mock may not send to `url` (None: it may). `resolve`: a name's addresses are checked too."""
        if _UNSAFE.search(url):
            position = _UNSAFE.search(url).start()  # type: ignore[union-attr]
            return f"{_shown(url)} holds a control character or space (at position {position})"
        try:
            parts = urlsplit(url)
            host = parts.hostname
            port = parts.port
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
            return self.address_refusal(address, shown=host)
        name = host.rstrip(".").lower()
        if not (_loopback_name(name) or any(fnmatch.fnmatchcase(name, pattern) for pattern in self.names)):
            return f"host {name} is not on the delivery allow-list ({self.describe()})"
        if not resolve:
            return None
        try:
            found = _bounded(self.resolve, name, port or (443 if parts.scheme.lower() == "https" else 80))
        except (OSError, UnicodeError):
            return None  # not resolvable now: resolved and checked again at each delivery
        return self.resolved_refusal(name, found)

    def resolved_refusal(self, name: str, addresses: Sequence[str]) -> str | None:
        """Why a name that resolved to `addresses` may not be sent to: every one of them must be allowed (a name on
        the allow-list admits public addresses; `localhost` names only loopback)."""
        for text in addresses:
            address = _address(text.split("%", 1)[0])
            if address is None:
                return f"host {name} resolves to {text!r}, which is no address"
            refused = self.address_refusal(address, shown=str(address))
            if refused is None:
                continue
            if _loopback_name(name) or _internal(address):
                return f"host {name} resolves to {refused}"
        return None

    def address_refusal(self, address: Address, *, shown: str) -> str | None:
        if address.is_loopback or any(address in network for network in self.networks):
            return None
        kind = "a private or reserved address" if _internal(address) else "an address"
        named = f"{shown} ({address})" if shown != str(address) else shown
        return f"{kind} {named} is not on the delivery allow-list ({self.describe()})"


def _loopback_name(name: str) -> bool:
    return name == "localhost" or name.endswith(".localhost")


def _address(host: str) -> Address | None:
    """The address a host names, in any form a resolver reads as one (None: a name)."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        bare = text[:-1] if text.endswith(".") else text
        if not bare or not _NUMERIC.fullmatch(bare) or not bare[0].isdigit():
            return None
        try:  # the forms inet_aton reads: 2852039166, 0xa9fea9fe, 169.254.43518, 0251.0376.0251.0376, 127.1
            address = ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
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
    shown = url if len(url) <= limit else url[:limit] + "…"
    return shown.encode("unicode_escape").decode("ascii") if _UNSAFE.search(shown) else shown
