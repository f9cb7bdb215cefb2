"""Who is asking: the client's network (truncated), and whether it looks like a machine.

The rule (docs/tracking.md), after the reference's "estimated opens":

- an **open** is machine-made when it comes from Apple Mail Privacy Protection:
  Apple's proxy fetches every image of every message as it arrives, from
  Apple's own network 17.0.0.0/8, with the bare user agent ``Mozilla/5.0``
  (either sign is enough);
- a **click** is machine-made when it comes within
  ``CLARION_MACHINE_CLICK_SECONDS`` (2 s) of the message being sent (no person
  reads and clicks that fast; security gateways such as Microsoft Defender Safe
  Links and Mimecast follow every link on arrival), or from a user agent known to
  be a link scanner or preview bot, or with no user agent at all.

Addresses are stored as their /24 (IPv4) or /48 (IPv6) network, never in full.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta

from django.conf import settings

# Apple's network (ARIN assigns all of 17.0.0.0/8 to Apple Inc.); MPP's proxies live in it.
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
# What MPP's image proxy sends as its user agent: nothing but this.
APPLE_PROXY_USER_AGENT = "Mozilla/5.0"
# Link scanners, preview bots and HTTP libraries that follow links without a person.
SCANNER_USER_AGENT = re.compile(
    r"bot\b|crawler|spider|scanner|preview|"
    r"barracuda|mimecast|proofpoint|urldefense|safelinks|forcepoint|trendmicro|"
    r"symantec|messagelabs|sophos|fortiguard|cisco|ironport|"
    r"python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|"
    r"curl/|wget/|libwww|java/|headlesschrome|phantomjs|"
    r"facebookexternalhit|slackbot|twitterbot|whatsapp|telegrambot|discordbot|skypeuripreview",
    re.IGNORECASE,
)
IPV4_PREFIX = 24
IPV6_PREFIX = 48


def ip_network_of(address: str) -> str:
    """``203.0.113.0/24`` or ``2001:db8:1::/48`` for a client address; "" when not one."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _is_apple(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip in APPLE_NETWORK


def open_is_machine(*, address: str, user_agent: str) -> bool:
    """Whether an open looks like Apple Mail Privacy Protection's prefetch."""
    return _is_apple(address) or user_agent.strip() == APPLE_PROXY_USER_AGENT


def click_is_machine(*, user_agent: str, at: datetime, sent_at: datetime | None) -> bool:
    """Whether a click looks like a link scanner's (too soon after sending, or its agent)."""
    soon = timedelta(seconds=settings.CLARION_MACHINE_CLICK_SECONDS)
    if sent_at is not None and at - sent_at < soon:
        return True
    agent = user_agent.strip()
    return not agent or SCANNER_USER_AGENT.search(agent) is not None
