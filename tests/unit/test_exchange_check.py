"""Matching exchanges to operations and naming what breaks the contract, as the validating proxy reports it."""

from __future__ import annotations

import json

from pruefstand.contracts import bundled_spec_path, load_spec
from pruefstand.contracts.exchange_check import ExchangeChecker

TMF = ExchangeChecker(load_spec(bundled_spec_path("tmf622/product-ordering.yaml")))
JSON = {"content-type": "application/json"}


def test_query_parameters_are_read_as_their_declared_type_and_named_when_wrong() -> None:
    fine = TMF.check_request("GET", "/productOrder", "limit=10&offset=0", {}, b"")
    assert fine.operation is not None
    assert fine.operation.operation_id == "listProductOrder"
    assert fine.violations == []
    wrong = TMF.check_request("GET", "/productOrder", "limit=0&offset=x", {}, b"")
    assert sorted(str(v) for v in wrong.violations) == [
        "query.limit: 0 is less than the minimum of 1",
        "query.offset: 'x' is not of type 'integer'",
    ]


def test_path_parameters_are_matched_and_the_body_is_checked_against_the_media_type() -> None:
    patch = TMF.check_request(
        "PATCH", "/productOrder/o%2D1", "", {"content-type": "application/merge-patch+json"}, b'{"priority": 1}'
    )
    assert patch.operation is not None
    assert patch.operation.operation_id == "patchProductOrder"
    assert patch.operation.path_params == {"id": "o-1"}
    assert [v.path for v in patch.violations] == ["$.priority"]
    wrong_type = TMF.check_request("POST", "/productOrder", "", {"content-type": "text/plain"}, b"x")
    assert [str(v) for v in wrong_type.violations] == ["header.Content-Type: text/plain is not one of application/json"]
    not_json = TMF.check_request("POST", "/productOrder", "", JSON, b"{")
    assert not_json.violations[0].message.startswith(
        "the body cannot be read as application/json: body is not valid JSON"
    )
    missing = TMF.check_request("POST", "/productOrder", "", JSON, b"")
    assert [str(v) for v in missing.violations] == ["body: is required"]


def test_methods_and_paths_outside_the_contract_are_named() -> None:
    put = TMF.check_request("PUT", "/productOrder/1", "", {}, b"")
    assert put.operation is None
    assert "PUT is not in the contract for this path (it has DELETE, GET, PATCH)" in str(put.violations[0])


def test_answers_are_checked_for_status_media_type_and_body() -> None:
    matched = TMF.match("GET", "/productOrder/1")
    assert matched is not None
    assert next(str(v) for v in TMF.check_response(matched, 418, JSON, b"{}")).startswith(
        "status: 418 is not documented"
    )
    assert "$.id" in [v.path for v in TMF.check_response(matched, 200, JSON, json.dumps({"id": 5}).encode())]
    wrong_media = TMF.check_response(matched, 200, {"content-type": "text/html"}, b"<p>")
    assert wrong_media[0].path == "header.Content-Type"


def test_hostile_bodies_are_named_not_raised() -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    request = TMF.check_request("POST", "/productOrder", "", JSON, nested)
    assert request.violations[0].path == "$"
    assert request.violations[0].message == (
        "the body cannot be read as application/json: body is nested deeper than 64 levels"
    )
    matched = TMF.match("GET", "/productOrder/1")
    assert matched is not None
    [answer] = TMF.check_response(matched, 200, JSON, b'{"id": "\xff"}')
    assert answer.message.startswith("the answer cannot be read as application/json: ")
    assert "not valid UTF-8" in answer.message


def test_an_exploded_array_parameter_takes_each_occurrence_as_one_item() -> None:
    from pruefstand.contracts.exchange_check import _coerced

    schema = {"type": "array", "items": {"type": "integer"}}
    assert _coerced(schema, ["1", "2"], explode=True) == [1, 2]
    assert _coerced(schema, ["1,2"], explode=True) == ["1,2"]  # one item, which then fails its type
    assert _coerced(schema, ["1,2"], explode=False) == [1, 2]
