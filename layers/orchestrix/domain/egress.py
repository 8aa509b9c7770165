"""Egress policy for tenant-supplied URLs (http steps, notify webhooks).

Every address a host name resolves to must pass, so a name that resolves to both a public
and a private address is refused. The HTTP client connects to the vetted addresses (not to
the name again), so a second DNS answer cannot swap in another target between check and use.

Order of the rules: a local address (loopback, 0.0.0.0, ::) on one of Orchestrix's own ports
(`reserved_ports`: the local AWS emulator, the local API gateway and its `/_local/*` routes)
is always refused, whatever else is allowed; an address inside an allow-listed CIDR passes;
link-local (169.254.0.0/16, fe80::/10 — where cloud metadata lives) is refused; loopback is
refused unless `allow_loopback`; private, shared, reserved, multicast and unspecified ranges are
refused unless `allow_private` or the host name itself is allow-listed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Sequence[str]]

_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


class EgressDenied(Exception):
    """The URL may not be called; `reason` says why, in words a tenant can act on."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class EgressUnresolvable(EgressDenied):
    """The host name did not resolve (refused at run time, tolerated at create time)."""


def system_resolver(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressUnresolvable(f"cannot resolve host {host!r}: {exc}") from exc
    return sorted({str(info[4][0]) for info in infos})


def _port(url: str) -> int | None:
    try:
        parts = urlsplit(url)
        return parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:  # a malformed setting names no port to protect
        return None


@dataclass(frozen=True)
class VettedTarget:
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class EgressPolicy:
    allow: Sequence[str] = ()
    allow_loopback: bool = False
    allow_private: bool = False
    resolver: Resolver = system_resolver
    # Ports of Orchestrix's own local endpoints, refused on every local address.
    reserved_ports: frozenset[int] = frozenset()
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False)
    _hosts: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        networks: list[IPNetwork] = []
        hosts: list[str] = []
        for entry in (e.strip() for e in self.allow):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.append(entry.lower().rstrip("."))
        object.__setattr__(self, "_networks", tuple(networks))
        object.__setattr__(self, "_hosts", tuple(hosts))

    @classmethod
    def for_stage(
        cls,
        *,
        local: bool,
        allow: Iterable[str] = (),
        resolver: Resolver = system_resolver,
        own_endpoints: Iterable[str | None] = (),
    ) -> EgressPolicy:
        """Local mode may call loopback (the developer's own services); AWS may not. Neither
        may call `own_endpoints` (URLs of Orchestrix's own services: the AWS emulator holding
        every tenant's data and functions, the API and its clock) on a local address."""
        return cls(
            allow=tuple(allow),
            allow_loopback=local,
            resolver=resolver,
            reserved_ports=frozenset(
                port for port in (_port(url) for url in own_endpoints if url) if port
            ),
        )

    def check_url(self, url: str) -> None:
        """Raise EgressDenied unless `url` may be called."""
        self.vet(url)

    def vet(self, url: str) -> VettedTarget:
        """Check `url` and return the addresses the caller may connect to."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise EgressDenied(f"malformed URL: {exc}") from exc
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise EgressDenied(f"scheme {scheme or '(none)'!r} is not allowed; use http or https")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise EgressDenied("URL has no host")
        port = port or (443 if scheme == "https" else 80)
        addresses = self._resolve(host)
        host_allowed = self._host_allowed(host)
        for address in addresses:
            self._check_reserved(host, address, port)
            self._check_address(host, address, host_allowed)
        return VettedTarget(scheme, host, port, addresses)

    def _check_reserved(self, host: str, address: IPAddress, port: int) -> None:
        # 0.0.0.0 and :: connect to this host too; any 127/8 address may reach a listener.
        if port in self.reserved_ports and (address.is_loopback or address.is_unspecified):
            shown = host if host == str(address) else f"{host} ({address})"
            raise EgressDenied(f"{shown} port {port} is an Orchestrix service; it is refused")

    def _resolve(self, host: str) -> tuple[IPAddress, ...]:
        try:
            raw: Sequence[str] = [str(ipaddress.ip_address(host))]
        except ValueError:
            raw = self.resolver(host)
        if not raw:
            raise EgressUnresolvable(f"cannot resolve host {host!r}")
        resolved: list[IPAddress] = []
        for text in raw:
            address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
            # ::ffff:a.b.c.d reaches the IPv4 address a.b.c.d: judge that one
            mapped = getattr(address, "ipv4_mapped", None)
            resolved.append(mapped if mapped is not None else address)
        return tuple(resolved)

    def _host_allowed(self, host: str) -> bool:
        host = host.lower()
        for pattern in self._hosts:
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]):
                    return True
            elif host == pattern:
                return True
        return False

    def _check_address(self, host: str, address: IPAddress, host_allowed: bool) -> None:
        if any(address in net for net in self._networks if net.version == address.version):
            return
        shown = host if host == str(address) else f"{host} ({address})"
        if any(address in net for net in _LINK_LOCAL if net.version == address.version):
            raise EgressDenied(f"{shown} is link-local; link-local targets are always refused")
        if address.is_loopback:
            if self.allow_loopback:
                return
            raise EgressDenied(f"{shown} is a loopback address")
        if host_allowed:
            return
        if (
            address.is_private
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
            or address in ipaddress.ip_network("100.64.0.0/10")
        ) and not self.allow_private:
            raise EgressDenied(f"{shown} is a private or reserved address")
