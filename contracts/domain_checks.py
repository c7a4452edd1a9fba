"""Checks that know the documented flows, registered with Schemathesis beside its own.

Each check recognises its API by the operation it sees, so registering them all is harmless for other APIs.
"""

from __future__ import annotations

import json
import re
from typing import Any

import schemathesis

_JSON_PATH = re.compile(r'\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*:')
_POSITION = re.compile(
    r"(line \d+, column \d+|offset \d+|nested deeper than \d+|number .* is out of range|is not a JSON)"
)
_registered = False


def maco_rejection_is_event_fail(ctx: Any, response: Any, case: Any) -> None:  # noqa: ARG001 (the signature is the library's)
    """MaCo trigger API: every refusal is EVENT_FAIL {errorCode: "<status>", message}; a 400 names a JSON path."""
    if not str(case.path).endswith("/inbound") or response.status_code < 400:
        return
    try:
        body = json.loads(response.content or b"null")
    except ValueError as exc:
        raise AssertionError(f"MaCo refusal {response.status_code} is not JSON, expected EVENT_FAIL") from exc
    if not isinstance(body, dict) or set(body) != {"errorCode", "message"}:
        raise AssertionError(f"MaCo refusal {response.status_code} is not EVENT_FAIL {{errorCode, message}}: {body!r}")
    if body["errorCode"] != str(response.status_code):
        raise AssertionError(f"EVENT_FAIL errorCode {body['errorCode']!r} does not match status {response.status_code}")
    message = str(body["message"])
    names_place = _JSON_PATH.search(message) or (message.startswith("Malformed request:") and _POSITION.search(message))
    if response.status_code == 400 and not names_place:
        raise AssertionError(
            f"EVENT_FAIL message names no field (a JSON path such as $.a.b, or for malformed bodies a position): "
            f"{message!r}"
        )


class IdentifiersAreNeverReused:
    """A resource created in the run (201 with an `id` in the body) never gets an id handed out before (an id the
    client sent in the request body is the client's choice, not one handed out).

    Identifiers come from counters or random sources and are never reused, also after a delete. The same id with the
    same answer is the same creation seen again (Schemathesis re-checks responses while shrinking), so only a repeated
    id with a different answer is reported.
    """

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], bytes] = {}

    def after_response(self, ctx: Any, response: Any, case: Any) -> None:  # noqa: ARG002 (the signature is the library's)
        if response.status_code != 201:
            return
        try:
            body = json.loads(response.content or b"null")
        except ValueError:
            return
        if not isinstance(body, dict) or not isinstance(body.get("id"), str | int):
            return
        sent = getattr(case, "body", None)
        if isinstance(sent, dict) and sent.get("id") == body["id"]:
            return  # an id the client chose (a WireMock stub mapping's): not one the server handed out
        key = (str(case.operation.path), str(body["id"]))
        first = self.seen.setdefault(key, bytes(response.content))
        if first != bytes(response.content):
            raise AssertionError(
                f"{case.operation.label} handed out id {body['id']!r} a second time for a different resource: "
                f"first {first[:200]!r}, now {bytes(response.content)[:200]!r}"
            )


def register_domain_checks() -> None:
    """Register the domain checks with Schemathesis once per process."""
    global _registered
    if not _registered:
        schemathesis.check(maco_rejection_is_event_fail)
        schemathesis.check(IdentifiersAreNeverReused)
        _registered = True
