"""Where the mock may send: loopback by default; names, addresses and networks from the allow-list; private,
link-local and metadata addresses only when an address or network entry names them; malformed URLs refused."""

from __future__ import annotations

import pytest

from pruefstand.mock_server.delivery.targets import TargetPolicy

LOOPBACK_ONLY = TargetPolicy.from_patterns([])
CONFIGURED = TargetPolicy.from_patterns(["*.buyer.example", "partner.example", "10.20.0.0/16", "[fd00::7]", "*"])


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/x", "http://127.9.9.9/x", "https://localhost/x", "http://[::1]:9/x", "http://a.localhost/"],
)
def test_loopback_is_allowed_by_default(url: str) -> None:
    assert LOOPBACK_ONLY.refusal(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/x", "host example.com is not on the delivery allow-list (loopback)"),
        ("http://169.254.169.254/latest", "a private or reserved address 169.254.169.254 is not on"),
        ("http://[fe80::1]/x", "a private or reserved address fe80::1 is not on"),
        ("http://100.64.0.1/x", "a private or reserved address 100.64.0.1 is not on"),
        ("http://0.0.0.0/x", "a private or reserved address 0.0.0.0 is not on"),
        ("http://8.8.8.8/x", "an address 8.8.8.8 is not on"),
        ("http://[::1", "is not a valid URL"),
        ("http://127.0.0.1:99999/x", "is not a valid URL"),
        ("file:///etc/passwd", "is not an http or https URL"),
        ("http:///x", "names no host"),
        ("http://u:p@127.0.0.1/", "carries credentials in the URL"),
    ],
)
def test_everything_else_is_refused_by_default_with_the_reason(url: str, reason: str) -> None:
    refusal = LOOPBACK_ONLY.refusal(url)
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://tmf.buyer.example/listener", True),
        ("https://partner.example:8443/x", True),
        ("https://anything.else.example/x", True),  # the `*` entry: any name
        ("http://10.20.3.4/x", True),  # a network entry
        ("http://[fd00::7]/x", True),  # an address entry
        ("http://10.21.0.1/x", False),  # `*` is a name pattern: it admits no private address
        ("http://169.254.169.254/latest", False),
        ("http://[fd00::8]/x", False),
        ("http://93.184.216.34/x", False),  # a public address literal needs an entry too
    ],
)
def test_the_allow_list_adds_names_addresses_and_networks(url: str, allowed: bool) -> None:
    assert (CONFIGURED.refusal(url) is None) is allowed


def test_overlong_urls_are_shortened_in_the_reason() -> None:
    refusal = LOOPBACK_ONLY.refusal("ftp://" + "a" * 5000)
    assert refusal is not None
    assert len(refusal) < 300
