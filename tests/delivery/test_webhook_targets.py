"""SSRF: webhook targets must be https and public, checked when saved and when sent."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from delivery.webhooks.targets import (
    TargetRefused,
    address_public,
    target_check,
    webhook_post,
)

REFUSED_URLS = [
    "https://127.0.0.1/hook",
    "https://127.0.0.2:8443/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/hook",  # CGNAT
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",  # multicast
    "https://240.0.0.1/hook",  # reserved
    "https://[::1]/hook",
    "https://[::]/hook",
    "https://[fc00::1]/hook",
    "https://[fd12:3456::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "https://[::ffff:169.254.169.254]/hook",
    "https://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
    "https://2130706433/hook",  # 127.0.0.1 in decimal
    "https://0x7f000001/hook",  # in hex
    "https://0177.0.0.1/hook",  # in octal
    "https://127.1/hook",  # shortened
    "https://localhost/hook",  # a name that resolves to loopback
    "https://LOCALHOST./hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_non_public_targets_are_refused_when_saved(url: str) -> None:
    with pytest.raises(TargetRefused, match="webhooks only go to public addresses"):
        target_check(url, allow_private=False)


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_non_public_targets_are_refused_when_sent_and_nothing_connects(
    url: str, monkeypatch
) -> None:
    # given a socket layer that records any connection attempt
    connects: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connects.append(address))

    result = webhook_post(url, body=b"{}", headers={}, allow_private=False)

    assert result.status is None
    assert "webhooks only go to public addresses" in result.error
    assert connects == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://93.184.215.14/hook", "Only https URLs are allowed."),
        ("ftp://93.184.215.14/hook", "Only https URLs are allowed."),
        ("https:///hook", "The URL has no host."),
        ("https://user:pass@93.184.215.14/hook", "The URL may not carry a user name or password."),
        ("https://93.184.215.14:99999/hook", "This is not a valid URL."),
    ],
)
def test_other_urls_are_refused_in_words(url: str, words: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        target_check(url, allow_private=False)
    assert str(refused.value) == words


def test_public_https_targets_pass() -> None:
    target_check("https://93.184.215.14/hook", allow_private=False)
    target_check("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", allow_private=False)


def test_a_name_that_resolves_to_a_private_address_is_refused_at_send_time(monkeypatch) -> None:
    # given a name whose DNS answer changed to a private address after it was saved
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))],
    )

    result = webhook_post(
        "https://hooks.example.com/x", body=b"{}", headers={}, allow_private=False
    )

    assert result.status is None
    assert result.error == (
        "hooks.example.com is a private, loopback, link-local or otherwise non-public address "
        "(10.0.0.7): webhooks only go to public addresses."
    )


def test_the_connection_goes_to_the_checked_address_with_the_name_for_tls(monkeypatch) -> None:
    # given a name that resolves to a public address
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *args, **kwargs: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))
        ],
    )
    made: list[dict[str, object]] = []

    class FakePool:
        def __init__(self, host: str, port: int, **kwargs: object) -> None:
            made.append({"host": host, "port": port, **kwargs})

        def urlopen(self, *args: object, **kwargs: object) -> object:
            raise __import__("urllib3").exceptions.NewConnectionError(None, "refused")

        def close(self) -> None:
            return None

    monkeypatch.setattr("urllib3.HTTPSConnectionPool", FakePool)

    result = webhook_post(
        "https://hooks.example.com/x", body=b"{}", headers={}, allow_private=False
    )

    # then the pool connects to the resolved address, verifying the name's certificate
    assert result.status is None
    [pool] = made
    assert (pool["host"], pool["port"]) == ("93.184.215.14", 443)
    assert (pool["server_hostname"], pool["assert_hostname"], pool["cert_reqs"]) == (
        "hooks.example.com",
        "hooks.example.com",
        "CERT_REQUIRED",
    )


def test_an_unresolvable_name_is_accepted_when_saved_but_not_sent(monkeypatch) -> None:
    def fail(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)

    target_check("https://hooks.example.com/x", allow_private=False)
    result = webhook_post(
        "https://hooks.example.com/x", body=b"{}", headers={}, allow_private=False
    )
    assert result.error == (
        "The host hooks.example.com could not be resolved ([Errno -2] Name or service not known)."
    )


def test_allow_private_lets_http_and_loopback_through() -> None:
    target_check("http://127.0.0.1:8000/hook", allow_private=True)
    target_check("http://localhost/hook", allow_private=True)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1", True),
        ("100.100.100.100", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
        ("2001:db8::1", False),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("ff02::1", False),
    ],
)
def test_address_public(address: str, public: bool) -> None:
    assert address_public(ipaddress.ip_address(address)) is public
