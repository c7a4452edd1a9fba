"""Admin operations for stubs and verification, WireMock-compatible per sandbox: the mappings (list, add, get,
replace, remove, reset), the scenarios (list, set a state, reset), and verification over the request journal (count,
find, near misses for a request pattern or a request)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from pruefstand.mock_server.http.journal import Journal
from pruefstand.mock_server.kernel.answers import Answer, json_answer
from pruefstand.mock_server.stubs.patterns import Request
from pruefstand.mock_server.stubs.service import Stubs, parse_pattern

NEAR_MISSES = 10


def logged_request(entry: Mapping[str, Any]) -> Request:
    """A journal entry as the patterns see it."""
    request = entry.get("request") or {}
    headers = {str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()}
    return Request(str(entry["method"]), str(entry["path"]), str(entry.get("query") or ""), headers,
                   str(request.get("body") or ""))  # fmt: skip


def logged_view(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A journal entry in WireMock's logged-request shape (with what pruefstand adds under `pruefstand`)."""
    request = logged_request(entry)
    at = str(entry["at"])
    logged = int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() * 1000)
    query: dict[str, dict[str, Any]] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        query.setdefault(key, {"key": key, "values": []})["values"].append(value)
    own = {"sandbox": entry.get("sandbox"), "status": entry.get("status")}
    own.update({key: entry[key] for key in ("stub", "fault", "problem") if key in entry})
    return {
        "url": request.url,
        "method": request.method,
        "headers": dict((entry.get("request") or {}).get("headers") or {}),
        "queryParams": query,
        "body": request.body,
        "loggedDate": logged,
        "loggedDateString": at,
        "pruefstand": own,
    }


class StubAdmin:
    def __init__(self, stubs: Stubs, journal: Journal) -> None:
        self._stubs = stubs
        self._journal = journal

    def operations(self) -> dict[str, Any]:
        return {
            "list_mappings": self.list_mappings,
            "create_mapping": self.create_mapping,
            "get_mapping": self.get_mapping,
            "replace_mapping": self.replace_mapping,
            "delete_mapping": self.delete_mapping,
            "reset_mappings": self.reset_mappings,
            "list_scenarios": self.list_scenarios,
            "set_scenario_state": self.set_scenario_state,
            "reset_scenarios": self.reset_scenarios,
            "count_requests": self.count_requests,
            "find_requests": self.find_requests,
            "near_misses_for_pattern": self.near_misses_for_pattern,
            "near_misses_for_request": self.near_misses_for_request,
        }

    async def list_mappings(self, sandbox: str) -> Answer:
        found = self._stubs.mappings(sandbox)
        return json_answer({"mappings": found, "meta": {"total": len(found)}})

    async def create_mapping(self, sandbox: str, body: dict[str, Any]) -> Answer:
        """201 for a new mapping; 200 when one with the same id was there and is replaced (no id is created twice)."""
        known = {m["id"] for m in self._stubs.mappings(sandbox)}
        mapping = self._stubs.add(sandbox, body)
        return json_answer(mapping, 200 if mapping["id"] in known else 201)

    async def get_mapping(self, sandbox: str, mapping_id: str) -> Answer:
        return json_answer(self._stubs.mapping(sandbox, mapping_id))

    async def replace_mapping(self, sandbox: str, mapping_id: str, body: dict[str, Any]) -> Answer:
        return json_answer(self._stubs.replace(sandbox, mapping_id, body))

    async def delete_mapping(self, sandbox: str, mapping_id: str) -> Answer:
        self._stubs.remove(sandbox, mapping_id)
        return json_answer({"id": mapping_id, "removed": True})

    async def reset_mappings(self, sandbox: str) -> Answer:
        self._stubs.reset(sandbox)
        return json_answer({"sandbox": sandbox, "mappings": len(self._stubs.mappings(sandbox))})

    async def list_scenarios(self, sandbox: str) -> Answer:
        return json_answer({"scenarios": self._stubs.scenarios(sandbox)})

    async def set_scenario_state(self, sandbox: str, scenario_name: str, body: dict[str, Any]) -> Answer:
        return json_answer(self._stubs.set_scenario(sandbox, scenario_name, str(body["state"])))

    async def reset_scenarios(self, sandbox: str) -> Answer:
        self._stubs.reset_scenarios(sandbox)
        return json_answer({"scenarios": self._stubs.scenarios(sandbox)})

    def _matching(self, sandbox: str, body: Any) -> list[dict[str, Any]]:
        pattern = parse_pattern(body)
        entries = self._journal.entries(sandbox, limit=self._journal.size or 0)
        return [e for e in reversed(entries) if pattern.evaluate(logged_request(e)).matched]  # oldest first

    async def count_requests(self, sandbox: str, body: dict[str, Any]) -> Answer:
        return json_answer({"count": len(self._matching(sandbox, body))})

    async def find_requests(self, sandbox: str, body: dict[str, Any]) -> Answer:
        found = [logged_view(e) for e in self._matching(sandbox, body)]
        return json_answer({"requests": found, "requestJournalDisabled": self._journal.size <= 0})

    async def near_misses_for_pattern(self, sandbox: str, body: dict[str, Any]) -> Answer:
        """The journaled requests closest to a pattern that they do not match, closest first."""
        pattern = parse_pattern(body)
        ranked = []
        for entry in self._journal.entries(sandbox, limit=self._journal.size or 0):
            outcome = pattern.evaluate(logged_request(entry))
            if not outcome.matched:
                ranked.append((outcome, entry))
        ranked.sort(key=lambda pair: pair[0].distance)
        return json_answer({"nearMisses": [
            {"request": logged_view(entry), "requestPattern": body,
             "matchResult": {"distance": outcome.distance, "differences": list(outcome.differences)}}
            for outcome, entry in ranked[:NEAR_MISSES]
        ]})  # fmt: skip

    async def near_misses_for_request(self, sandbox: str, body: dict[str, Any]) -> Answer:
        """The stub mappings closest to a request (WireMock's logged-request shape: method, url, headers, body)."""
        path, _, query = str(body.get("url") or "/").partition("?")
        headers = {str(k).lower(): str(v) for k, v in (body.get("headers") or {}).items()}
        request = Request(str(body.get("method") or "GET"), path, query, headers, str(body.get("body") or ""))
        return json_answer({"nearMisses": [
            {"request": body, "stubMapping": dict(stub.data),
             "matchResult": {"distance": outcome.distance, "differences": list(outcome.differences)}}
            for stub, outcome in self._stubs.near_misses(sandbox, request, NEAR_MISSES)
        ]})  # fmt: skip
