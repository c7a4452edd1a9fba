"""WireMock's request matching, case by case as its documentation describes it (wiremock.org/docs/request-matching,
/docs/stubbing "Stub priority", /docs/response-templating), against pruefstand's matcher."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pruefstand.mock_server.stubs import templating
from pruefstand.mock_server.stubs.mappings import MappingError, normalized
from pruefstand.mock_server.stubs.patterns import Request, RequestPattern, value_matches


def request(
    method: str = "GET", url: str = "/", headers: dict[str, str] | None = None, body: str | dict[str, Any] = ""
) -> Request:
    path, _, query = url.partition("?")
    text = body if isinstance(body, str) else json.dumps(body)
    return Request(method, path, query, {k.lower(): v for k, v in (headers or {}).items()}, text)


def fits(pattern: dict[str, Any], req: Request) -> bool:
    return RequestPattern(pattern).evaluate(req).matched


# URL matching ("url" is path and query, equal; "urlPath" the path; the *Pattern ones a regex over the whole)
@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        ({"url": "/your/url?and=query"}, "/your/url?and=query", True),
        ({"url": "/your/url?and=query"}, "/your/url", False),
        ({"url": "/your/url"}, "/your/url?and=query", False),
        ({"urlPath": "/your/url"}, "/your/url?and=query", True),
        ({"urlPath": "/your/url"}, "/your/url/more", False),
        ({"urlPattern": "/your/([a-z]*)\\?and=query"}, "/your/url?and=query", True),
        ({"urlPattern": "/your/([a-z]*)"}, "/your/url?and=query", False),  # the regex covers the whole URL
        ({"urlPathPattern": "/your/([a-z]*)"}, "/your/url?and=query", True),
        ({"urlPathPattern": "/your/([a-z]*)"}, "/your/URL", False),
        ({}, "/anything?at=all", True),  # no URL in the pattern: any URL
    ],
)
def test_url_matching(pattern: dict[str, Any], url: str, expected: bool) -> None:
    assert fits(pattern, request(url=url)) is expected


def test_method_equal_or_any() -> None:
    assert fits({"method": "POST", "urlPath": "/x"}, request("POST", "/x"))
    assert not fits({"method": "POST", "urlPath": "/x"}, request("GET", "/x"))
    assert fits({"method": "ANY", "urlPath": "/x"}, request("DELETE", "/x"))


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ({"equalTo": "text/plain"}, "text/plain", True),
        ({"equalTo": "text/plain"}, "TEXT/PLAIN", False),
        ({"equalTo": "text/plain", "caseInsensitive": True}, "TEXT/PLAIN", True),
        ({"contains": "wiremock"}, "some wiremock text", True),
        ({"contains": "wiremock"}, "nothing here", False),
        ({"doesNotContain": "wiremock"}, "nothing here", True),
        ({"matches": "^(.*)wiremock([A-Za-z]+)$"}, "my wiremockstuff", True),
        ({"matches": "wire"}, "wiremock", False),  # Java's String.matches: the whole value
        ({"doesNotMatch": "^[0-9]+$"}, "abc", True),
        ({"doesNotMatch": "^[0-9]+$"}, "123", False),
        ({"absent": True}, None, True),
        ({"absent": True}, "present", False),
        ({"equalTo": "x"}, None, False),
        ({"and": [{"contains": "a"}, {"contains": "b"}]}, "ab", True),
        ({"and": [{"contains": "a"}, {"contains": "b"}]}, "a", False),
        ({"or": [{"equalTo": "1"}, {"equalTo": "2"}]}, "2", True),
        ({"not": {"equalTo": "1"}}, "2", True),
    ],
)
def test_value_patterns(pattern: dict[str, Any], value: str | None, expected: bool) -> None:
    assert value_matches(pattern, value) is expected


def test_headers_by_name_in_any_case_and_absent() -> None:
    pattern = {"urlPath": "/x", "headers": {"Content-Type": {"equalTo": "text/xml"}, "X-Bad": {"absent": True}}}
    assert fits(pattern, request(url="/x", headers={"content-type": "text/xml"}))
    assert not fits(pattern, request(url="/x", headers={"content-type": "text/xml", "x-bad": "1"}))
    assert not fits(pattern, request(url="/x", headers={"content-type": "application/json"}))


def test_query_parameters_any_value_of_a_repeated_one_and_absent() -> None:
    pattern = {"urlPath": "/things", "queryParameters": {"search": {"contains": "Some"}, "page": {"absent": True}}}
    assert fits(pattern, request(url="/things?search=WithSomeText"))
    assert fits(pattern, request(url="/things?search=no&search=Some"))
    assert not fits(pattern, request(url="/things?search=WithSomeText&page=2"))
    assert not fits(pattern, request(url="/things"))


@pytest.mark.parametrize(
    ("pattern", "body", "expected"),
    [
        ({"equalToJson": {"total_results": 4}}, {"total_results": 4}, True),
        ({"equalToJson": '{ "total_results": 4 }'}, {"total_results": 4}, True),  # the string form
        ({"equalToJson": {"total_results": 4}}, {"total_results": 4, "extra": 1}, False),
        ({"equalToJson": {"total_results": 4}, "ignoreExtraElements": True}, {"total_results": 4, "extra": 1}, True),
        ({"equalToJson": {"a": [1, 2, 3]}}, {"a": [3, 2, 1]}, False),
        ({"equalToJson": {"a": [1, 2, 3]}, "ignoreArrayOrder": True}, {"a": [3, 2, 1]}, True),
        ({"equalToJson": {"a": [1, 2]}, "ignoreArrayOrder": True}, {"a": [1, 1]}, False),
        ({"equalToJson": {"a": [{"b": 1}]}, "ignoreExtraElements": True}, {"a": [{"b": 1, "c": 2}]}, True),
        ({"equalToJson": {"a": 1}}, "not json", False),
        ({"equalToJson": {"a": 1}}, {"a": True}, False),  # 1 is not true in JSON
    ],
)
def test_equal_to_json(pattern: dict[str, Any], body: Any, expected: bool) -> None:
    assert fits({"bodyPatterns": [pattern]}, request("POST", body=body)) is expected


@pytest.mark.parametrize(
    ("pattern", "body", "expected"),
    [
        ({"matchesJsonPath": "$.name"}, {"name": "Wiremock"}, True),
        ({"matchesJsonPath": "$.name"}, {"other": 1}, False),
        ({"matchesJsonPath": "$.things[?(@.name == 'RequiredThing')]"}, {"things": [{"name": "RequiredThing"}]}, True),
        ({"matchesJsonPath": "$.things[?(@.name == 'RequiredThing')]"}, {"things": [{"name": "Other"}]}, False),
        ({"matchesJsonPath": {"expression": "$.name", "equalTo": "Tom"}}, {"name": "Tom"}, True),
        ({"matchesJsonPath": {"expression": "$.name", "equalTo": "Tom"}}, {"name": "Jerry"}, False),
        (
            {"matchesJsonPath": {"expression": "$..todoItem", "contains": "wash"}},
            {"a": {"todoItem": "wash the car"}},
            True,
        ),
        ({"matchesJsonPath": {"expression": "$.size", "matches": "[0-9]+"}}, {"size": 42}, True),
        ({"matchesJsonPath": {"expression": "$.missing", "absent": True}}, {"name": "x"}, True),
        ({"matchesJsonPath": "$.name"}, "not json", False),
    ],
)
def test_matches_json_path(pattern: dict[str, Any], body: Any, expected: bool) -> None:
    assert fits({"bodyPatterns": [pattern]}, request("POST", body=body)) is expected


def test_every_body_pattern_must_hold() -> None:
    pattern = {"bodyPatterns": [{"contains": "milk"}, {"matches": ".*bread.*"}]}
    assert fits(pattern, request("POST", body="milk and bread"))
    assert not fits(pattern, request("POST", body="milk only"))


def test_a_near_miss_says_what_differed_and_how_far() -> None:
    pattern = RequestPattern({"method": "POST", "url": "/almostmatch", "headers": {"X-A": {"equalTo": "1"}}})
    close = pattern.evaluate(request("POST", "/almostmatc", {"x-a": "1"}))
    far = pattern.evaluate(request("GET", "/other/thing", {"x-a": "2"}))
    assert close.differences == ("url: expected /almostmatch, got /almostmatc",)
    assert 0 < close.distance < far.distance <= 1
    assert "method: expected POST, got GET" in far.differences
    assert any(d.startswith("header X-A") for d in far.differences)


def test_mappings_are_checked_against_wiremocks_schema_and_what_pruefstand_supports() -> None:
    ok = normalized({"request": {"method": "GET", "urlPath": "/x"}, "response": {"status": 200, "body": "hi"}})
    assert ok["id"]
    assert ok["response"]["status"] == 200
    with pytest.raises(MappingError) as schema:
        normalized({"request": {"method": "GET"}, "response": {"status": "two hundred"}})
    assert "response.status" in str(schema.value)
    assert "WireMock's stub-mapping schema" in str(schema.value)
    with pytest.raises(MappingError) as unsupported:
        normalized({"request": {"urlPath": "/x"}, "response": {"proxyBaseUrl": "http://elsewhere"}})
    assert "$.response.proxyBaseUrl: not supported" in str(unsupported.value)
    with pytest.raises(MappingError) as two_urls:
        normalized({"request": {"url": "/x", "urlPath": "/x"}, "response": {}})
    assert "only one of url, urlPath" in str(two_urls.value)
    with pytest.raises(MappingError) as regex:
        normalized({"request": {"urlPathPattern": "/x(["}, "response": {}})
    assert "not a regular expression" in str(regex.value)
    with pytest.raises(MappingError) as matcher:
        normalized({"request": {"headers": {"A": {"equalToXml": "<a/>"}}}, "response": {}})
    assert "request.headers.A" in str(matcher.value)


def test_response_templates_fill_in_the_request_as_wiremock_documents() -> None:
    req = request("POST", "/things/123?search=abc&search=def", {"x-trace": "t-1"}, body={"a": {"b": "deep"}})
    rendered = templating.render(
        "{{request.method}} {{request.path}} {{request.path.[0]}} {{request.path.[1]}} {{request.query.search}} "
        "{{request.query.search.[1]}} {{request.headers.X-Trace}} {{jsonPath request.body '$.a.b'}} "
        "{{request.url}} {{request.baseUrl}}",
        req,
        "http://localhost:8080",
    )
    assert rendered == (
        "POST /things/123 things 123 abc def t-1 deep /things/123?search=abc&search=def http://localhost:8080"
    )
    uuid_text = templating.render("{{randomValue type='UUID'}}", req, "")
    assert len(uuid_text) == 36
    assert uuid_text.count("-") == 4
    assert len(templating.render("{{randomValue length=12 type='ALPHANUMERIC'}}", req, "")) == 12
    assert templating.render("{{now format='yyyy'}}", req, "").isdigit()
    assert templating.render("{{now}}", req, "").endswith("Z")
    assert templating.check("{{#if}") is not None
    assert "missing 2 required positional arguments" in str(templating.check("{{jsonPath}}"))  # refused when added
