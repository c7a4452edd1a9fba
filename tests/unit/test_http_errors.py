"""Each API's documented error shape, chosen by path prefix."""

from __future__ import annotations

import json
from typing import Any

from pruefstand.mock_server.flows.maco.errors import event_fail
from pruefstand.mock_server.http.errors import ErrorShapes, render
from pruefstand.mock_server.kernel.error_shapes import ErrorShape, oauth_error, problem, tmf_error


def body(shape: ErrorShape, status: int, message: str) -> Any:
    return json.loads(render(shape, status, message).body)


def test_the_longest_matching_prefix_picks_the_shape() -> None:
    shapes = ErrorShapes([("/maco", event_fail), ("/maco/oauth/token", oauth_error), ("/tmf-api", tmf_error)])
    assert shapes.for_path("/maco/oauth/token") is oauth_error
    assert shapes.for_path("/maco/inbound") is event_fail
    assert shapes.for_path("/macOS") is problem
    assert shapes.for_path("/tmf-api/productOrderingManagement/v4/productOrder") is tmf_error


def test_the_shapes() -> None:
    assert body(event_fail, 409, "conflict: x") == {"errorCode": "409", "message": "conflict: x"}
    assert body(oauth_error, 401, "invalid_grant: wrong password") == {
        "error": "invalid_grant",
        "error_description": "wrong password",
    }
    assert body(tmf_error, 404, "no productOrder with id '7'") == {
        "code": "404",
        "reason": "Not Found",
        "message": "no productOrder with id '7'",
        "status": "404",
        "@type": "Error",
    }
    assert (
        body(problem, 400, "Validation Failed: $.seconds: -1 is less than the minimum of 0")["title"] == "Bad Request"
    )
