"""Whether a stub's answer satisfies the contract of the operation it answers (for the kit's APIs and partners'
contracts alike): its status documented, its media type and its JSON body as the operation says.

Checked where the mapping names one operation: a method (not ANY) and an exact `url` or `urlPath` under a served
API's base path. A mapping with a URL pattern, or for a path no served API has, is not checked (there is no one
operation to hold it to); a templated body is checked for its status and media type only (its body is known only
when a request fills it in); a fault has no answer to check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pruefstand.contracts import Spec
from pruefstand.contracts.exchange_check import ExchangeChecker

logger = logging.getLogger(__name__)


class StubContracts:
    def __init__(self, apis: Sequence[tuple[str, Spec]]) -> None:
        # the longest base path first: /x/y before /x
        self._apis = sorted(
            ((base.rstrip("/"), ExchangeChecker(spec)) for base, spec in apis), key=lambda a: -len(a[0])
        )

    def __call__(self, mapping: Mapping[str, Any]) -> list[str]:
        request, response = mapping.get("request") or {}, mapping.get("response") or {}
        method = str(request.get("method") or "ANY").upper()
        path = request.get("urlPath") or (str(request["url"]).split("?", 1)[0] if request.get("url") else None)
        if method == "ANY" or path is None or response.get("fault"):
            return []
        for base, checker in self._apis:
            if path == base or path.startswith(base + "/"):
                return _checked(checker, method, path[len(base) :] or "/", response)
        return []


def _checked(checker: ExchangeChecker, method: str, path: str, response: Mapping[str, Any]) -> list[str]:
    matched = checker.match(method, path)
    if matched is None:
        others = checker.paths_with(path)
        offered = f"it has {', '.join(others)}" if others else "no such path"
        return [f"{method} {path}: no operation of {checker.spec.title} ({offered})"]
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    templated = "response-template" in (response.get("transformers") or [])
    if "jsonBody" in response:
        body = b"" if templated else json.dumps(response["jsonBody"]).encode()
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        if templated:
            body = b"{}"  # the media type is checked; the body is filled in per request
    else:
        body = b"" if templated else str(response.get("body") or "").encode()
    status = int(response.get("status") or 200)
    try:
        problems = checker.check_response(matched, status, headers, body)
    except Exception:  # a contract whose schemas refer to each other in circles: the status is what can be checked
        logger.info("the stub's body could not be checked against %s", matched.operation_id, exc_info=True)
        problems = checker.check_response(matched, status, headers, b"")
    if templated:
        problems = [p for p in problems if not str(p.path).startswith("$")]
    return [f"{matched.operation_id} {status}: {problem}" for problem in problems]
