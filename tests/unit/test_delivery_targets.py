"""Where the mock may send: loopback by default; names, addresses and networks from the allow-list; private,
link-local and metadata addresses only when an address or network entry names them; malformed URLs refused."""

from __future__ import annotations

import re

import pytest

from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.kernel.errors import SettingsError

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


EVERY_NAME = TargetPolicy.from_patterns(["*"])
METADATA_FORMS = ["2852039166", "0xa9fea9fe", "0xA9FEA9FE", "169.254.43518", "0251.0376.0251.0376", "169.254.169.254.",
                  "169.0xfe.169.254", "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]"]  # fmt: skip
PRIVATE_FORMS = ["167772161", "0x0a.0.0.1", "10.1", "012.0.0.1", "0", "0.0.0.0", "[::]"]


@pytest.mark.parametrize("host", METADATA_FORMS + PRIVATE_FORMS)
def test_every_number_form_of_an_internal_address_is_an_address_not_a_name(host: str) -> None:
    refusal = EVERY_NAME.refusal(f"http://{host}/latest/meta-data")
    assert refusal is not None
    assert refusal.startswith("a private or reserved address")


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1", "0177.0.0.1", "[::1]", "[::ffff:127.0.0.1]"])
def test_loopback_in_any_number_form_stays_loopback(host: str) -> None:
    assert LOOPBACK_ONLY.refusal(f"http://{host}:8080/x") is None


@pytest.mark.parametrize(
    "url",
    ["http://a.example/x\r\nX-Injected: 1", "http://a.example/x y", "http://a.example/\x00", "http://a.\texample/"],
)
def test_control_characters_and_spaces_are_refused_where_the_url_is_registered(url: str) -> None:
    refusal = EVERY_NAME.refusal(url)
    assert refusal is not None
    assert "holds a control character or space" in refusal
    assert "\r" not in refusal
    assert "\n" not in refusal


def test_the_scheme_is_read_in_any_case_and_ipv6_literals_are_addresses() -> None:
    assert LOOPBACK_ONLY.refusal("HTTP://127.0.0.1:9/x") is None
    assert LOOPBACK_ONLY.refusal("Https://[::1]:9/x") is None
    assert "fd00::7" in str(LOOPBACK_ONLY.refusal("http://[fd00::7]/x"))


def resolving(table: dict[str, list[str]]) -> TargetPolicy:
    def resolve(host: str, _port: int) -> list[str]:
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    return TargetPolicy.from_patterns(["*", "10.20.0.0/16"], resolve=resolve)


def test_a_name_is_resolved_and_every_address_it_resolves_to_is_checked() -> None:
    policy = resolving({
        "metadata.example": ["169.254.169.254"],
        "half.example": ["93.184.216.34", "10.0.0.1"],
        "public.example": ["93.184.216.34"],
        "inside.example": ["10.20.1.2"],
        "metadata.localhost": ["169.254.169.254"],
        "away.localhost": ["93.184.216.34"],
        "app.localhost": ["127.0.0.1", "::1"],
    })  # fmt: skip
    assert "host metadata.example resolves to a private or reserved address 169.254.169.254" in str(
        policy.refusal("http://metadata.example/")
    )
    assert "resolves to a private or reserved address 10.0.0.1" in str(policy.refusal("http://half.example/"))
    assert policy.refusal("http://public.example/") is None
    assert policy.refusal("http://inside.example/") is None  # a network entry admits it
    assert "host metadata.localhost resolves to" in str(policy.refusal("http://metadata.localhost/"))
    assert "host away.localhost resolves to an address 93.184.216.34" in str(policy.refusal("http://away.localhost/"))
    assert policy.refusal("http://app.localhost:9/") is None
    assert policy.refusal("http://unknown.example/") is None  # not resolvable now: checked again at delivery


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("10.0.0.0/33", "'10.0.0.0/33' is not a network"),
        ("http://10.0.0.1", "'http://10.0.0.1' is a URL; give its host"),
        ("buyer example", "is neither a host name pattern"),
        ("*.buyer.example/", "is not a network"),
    ],
)
def test_allow_list_entries_are_checked_when_the_mock_starts(entry: str, says: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(says)):
        TargetPolicy.from_patterns([entry])


def test_a_resolver_that_hangs_never_holds_a_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from pruefstand.mock_server.delivery import targets

    release = threading.Event()

    def hanging(_host: str, _port: int) -> list[str]:
        release.wait()
        return ["169.254.169.254"]

    monkeypatch.setattr(targets, "REGISTRATION_LOOKUP_SECONDS", 0.01)
    try:
        # not resolvable now: admitted by name, and resolved (and refused) again at delivery
        assert TargetPolicy.from_patterns(["*"], resolve=hanging).refusal("http://slow.example/x") is None
    finally:
        release.set()
