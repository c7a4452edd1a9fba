"""What passed through `pruefstand proxy` written as WireMock stub mappings (`--record-mappings DIR`), loadable with
`pruefstand serve --mappings DIR` (and by WireMock itself), as WireMock's recorder writes them: the request by method,
URL and, for a JSON body, `equalToJson`; the answer's status, media type, `Location` and body. A request seen again
with a different answer becomes a scenario (WireMock's `repeatsAsScenarios`): the answers come back in the order they
came. One file per mapping, written as each exchange passes (a stopped proxy loses nothing), readable by the owner
only (answers may hold tokens).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

from pruefstand.mock_server.kernel.private_files import write_private

_KEPT_ANSWER_HEADERS = ("content-type", "location")


class MappingRecorder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._by_request: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
        self.count = 0

    def add(self, method: str, url: str, request_headers: dict[str, str], request_body: bytes, status: int,
            answer_headers: dict[str, str], answer_body: bytes) -> Path:  # fmt: skip
        request = _request_pattern(method, url, request_headers, request_body)
        key = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:12]
        mapping: dict[str, Any] = {"request": request, "response": _response(status, answer_headers, answer_body)}
        with self._lock:
            self.count += 1
            path = self.folder / f"{self.count:04d}-{method.lower()}{_slug(url)}.json"
            seen = self._by_request.setdefault(key, [])
            seen.append((path, mapping))
            if len(seen) > 1:  # a repeat: the mappings of this request become one scenario, in order
                name = f"{method.upper()} {url} ({key})"
                for number, (_, earlier) in enumerate(seen, start=1):
                    earlier["scenarioName"] = name
                    earlier["requiredScenarioState"] = "Started" if number == 1 else f"{name} #{number}"
                    if number < len(seen):
                        earlier["newScenarioState"] = f"{name} #{number + 1}"
                for written, earlier in seen:
                    _write(written, earlier)
            else:
                _write(path, mapping)
        return path


def _request_pattern(method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    pattern: dict[str, Any] = {"method": method.upper(), "url": url}
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if body and (media == "application/json" or media.endswith("+json")):
        try:
            pattern["bodyPatterns"] = [{"equalToJson": json.loads(body), "ignoreArrayOrder": True}]
        except ValueError:
            pattern["bodyPatterns"] = [{"equalTo": body.decode("utf-8", "replace")}]
    return pattern  # form bodies (credentials of a token request) are not recorded


def _response(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status}
    kept = {name.title(): value for name, value in headers.items() if name.lower() in _KEPT_ANSWER_HEADERS}
    if kept:
        response["headers"] = kept
    if not body:
        return response
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        response["base64Body"] = base64.b64encode(body).decode("ascii")
        return response
    try:
        response["jsonBody"] = json.loads(text) if "json" in headers.get("content-type", "") else None
    except ValueError:
        response.pop("jsonBody", None)
    if response.get("jsonBody") is None or not isinstance(response["jsonBody"], dict | list):
        response.pop("jsonBody", None)
        response["body"] = text
    return response


def _slug(url: str) -> str:
    path = url.split("?", 1)[0]
    return re.sub(r"[^A-Za-z0-9]+", "-", path).rstrip("-")[:60] or "-root"


def _write(path: Path, mapping: dict[str, Any]) -> None:
    write_private(path, json.dumps(mapping, ensure_ascii=False, indent=2) + "\n")
