"""Where a webhook may go (SSRF), and the one HTTP request that takes it there.

An endpoint's URL is typed by an admin user, and the request is made from inside
the installation's network: without care it could reach the cloud metadata
service (169.254.169.254), the database or the loopback admin of some daemon.
So only ``https`` to public addresses is allowed, unless the installation sets
``CLARION_WEBHOOKS_ALLOW_PRIVATE`` (development, tests).

The URL is checked when it is saved (a form error in words) and again when each
request goes: the host is resolved, every address it resolves to is checked, and
the connection is made to the checked address itself, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot swap it.
TLS still verifies the certificate against the URL's host name (SNI and
hostname check), as a request to the name would.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.utils.translation import gettext as _

from delivery.limits import (
    WEBHOOK_CONNECT_TIMEOUT_SECONDS,
    WEBHOOK_READ_TIMEOUT_SECONDS,
    WEBHOOK_RESPONSE_EXCERPT_BYTES,
    WEBHOOK_USER_AGENT,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# NAT64 (RFC 6052): an IPv4 address inside an IPv6 one, reached through a gateway.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The URL may not be requested; ``str(error)`` says why, in words."""


def address_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address (IPv4 inside IPv6 checked too).

    Refused: loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16 with
    the metadata service, fe80::/10), unspecified, multicast, reserved, CGNAT
    (100.64.0.0/10) and the other special-purpose ranges ``is_global`` leaves out.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not address_public(embedded):
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _literal(host: str) -> IPAddress | None:
    """The address ``host`` spells, also in the forms ``inet_aton`` reads (2130706433,
    0x7f000001, 0177.0.0.1, 127.1), which resolvers accept as numbers too."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL (for the Host header, SNI and the certificate check)
    port: int
    path: str  # with the query string


def target_parse(url: str, *, allow_private: bool) -> Target:
    """The URL's parts, or TargetRefused when its scheme or form is not allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(_("This is not a valid URL.")) from None
    scheme = parts.scheme.lower()
    allowed = {"https", "http"} if allow_private else {"https"}
    if scheme not in allowed:
        raise TargetRefused(_("Only https URLs are allowed."))
    if not parts.hostname:
        raise TargetRefused(_("The URL has no host."))
    if parts.username or parts.password:
        raise TargetRefused(_("The URL may not carry a user name or password."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, parts.hostname, port or (443 if scheme == "https" else 80), path)


def _resolve(target: Target) -> list[IPAddress]:
    literal = _literal(target.host)
    if literal is not None:
        return [literal]
    name = target.host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        # RFC 6761 6.3: loopback, whatever a resolver answers (or fails to).
        return [ipaddress.IPv4Address("127.0.0.1")]
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise TargetRefused(
            _("The host %(host)s could not be resolved (%(error)s).")
            % {"host": target.host, "error": error}
        ) from None
    found: list[IPAddress] = []
    for info in infos:
        # A scoped IPv6 address ("fe80::1%eth0") carries its zone; it is link-local anyway.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def _check(target: Target, addresses: list[IPAddress], *, allow_private: bool) -> None:
    if allow_private:
        return
    for address in addresses:
        if not address_public(address):
            raise TargetRefused(
                _(
                    "%(host)s is a private, loopback, link-local or otherwise non-public "
                    "address (%(address)s): webhooks only go to public addresses."
                )
                % {"host": target.host, "address": address}
            )


def target_check(url: str, *, allow_private: bool) -> None:
    """Raise TargetRefused when ``url`` may not receive webhooks (the admin form's check).

    A host that does not resolve yet is accepted here (its DNS may come later); the
    request is refused until it resolves to public addresses only.
    """
    target = target_parse(url, allow_private=allow_private)
    try:
        addresses = _resolve(target)
    except TargetRefused:
        return
    _check(target, addresses, allow_private=allow_private)


@dataclass(frozen=True)
class PostResult:
    """What the endpoint answered: its status and the start of its body, or an error."""

    status: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _pool(target: Target, address: IPAddress) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(
        connect=WEBHOOK_CONNECT_TIMEOUT_SECONDS, read=WEBHOOK_READ_TIMEOUT_SECONDS
    )
    if target.scheme == "https":
        # Connected to the checked address; the certificate is still checked against
        # the URL's host name, which also goes out as SNI.
        return urllib3.HTTPSConnectionPool(
            str(address),
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        str(address), target.port, timeout=timeout, retries=False, maxsize=1
    )


def webhook_post(
    url: str, *, body: bytes, headers: dict[str, str], allow_private: bool
) -> PostResult:
    """POST ``body`` to ``url`` once: no redirect followed, short timeouts. Never raises."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_parse(url, allow_private=allow_private)
        addresses = _resolve(target)
        _check(target, addresses, allow_private=allow_private)
    except TargetRefused as refused:
        return PostResult(None, took(), error=str(refused))
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    request_headers = {
        **headers,
        "Host": host_header,
        "User-Agent": WEBHOOK_USER_AGENT,
        "Content-Type": "application/json",
    }
    pool = _pool(target, addresses[0])
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(WEBHOOK_RESPONSE_EXCERPT_BYTES)
        finally:
            response.release_conn()
        return PostResult(response.status, took(), excerpt.decode("utf-8", errors="replace"))
    except urllib3.exceptions.HTTPError as error:
        return PostResult(None, took(), error=f"{type(error).__name__}: {error}"[:1000])
    finally:
        pool.close()
