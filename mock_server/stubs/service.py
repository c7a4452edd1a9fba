"""Stubs per sandbox: the mappings loaded from files (`serve --mappings DIR`, in every sandbox), the sandbox's own
(admin API), their scenarios' states, matching a request, and the answer a matched stub gives.

A sandbox's own mappings and its scenario states are one record each, read from memory while nobody changed them
(a cached kind), so a sandbox without stubs costs a request one cached read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pruefstand.contracts import Violation
from pruefstand.mock_server.kernel.errors import BadRequest, NotFound
from pruefstand.mock_server.store import Store
from pruefstand.mock_server.stubs import templating
from pruefstand.mock_server.stubs.mappings import STARTED, MappingError, Stub, check_request_pattern_data, normalized
from pruefstand.mock_server.stubs.patterns import Outcome, Request, RequestPattern

MAPPINGS_KIND, SCENARIOS_KIND, KEY = "stubs.mappings", "stubs.scenarios", "sandbox"
CACHED_KINDS = (MAPPINGS_KIND, SCENARIOS_KIND)
_OWN_FIRST = 1_000_000  # a sandbox's own mappings come after the files' in the order (newer wins a tie)
# Checks a mapping's answer against the contract of the operation it answers: the violations, named.
AnswerCheck = Callable[[Mapping[str, Any]], list[str]]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay_ms: int
    fault: str | None


def _refusal(error: MappingError) -> BadRequest:
    return BadRequest(
        [Violation(problem.split(":", 1)[0], problem.split(":", 1)[-1].strip()) for problem in error.problems]
    )


def allows_violation(mapping: Mapping[str, Any]) -> bool:
    meta = mapping.get("metadata") or {}
    own = meta.get("pruefstand") if isinstance(meta, Mapping) else None
    return bool(isinstance(own, Mapping) and own.get("allowContractViolation"))


class Stubs:
    def __init__(self, store: Store, defaults: Sequence[Mapping[str, Any]] = (), check: AnswerCheck | None = None):
        self._store = store
        self._defaults = [Stub.of(data, order) for order, data in enumerate(defaults)]
        self._check = check

    # the mappings
    def mappings(self, sandbox: str) -> list[dict[str, Any]]:
        """Every mapping the sandbox answers with, as WireMock lists them (the newest first)."""
        return [dict(stub.data) for stub in sorted(self._stubs(sandbox), key=lambda s: -s.order)]

    def mapping(self, sandbox: str, mapping_id: str) -> dict[str, Any]:
        for stub in self._stubs(sandbox):
            if stub.id == mapping_id:
                return dict(stub.data)
        raise NotFound(f"no stub mapping {mapping_id!r} in sandbox {sandbox!r}")

    def add(self, sandbox: str, data: Any, mapping_id: str | None = None) -> dict[str, Any]:
        """A mapping of the sandbox's own (one with the same id is replaced): 400 naming each problem, and, unless
        its metadata allows it, each way its answer breaks the contract of the operation it answers."""
        try:
            mapping = normalized(data, "$", mapping_id)
        except MappingError as exc:
            raise _refusal(exc) from exc
        if self._check is not None and not allows_violation(mapping):
            problems = self._check(mapping)
            if problems:
                raise BadRequest(
                    [Violation("$.response", p) for p in problems],
                    prefix="The stub's answer breaks the contract (metadata.pruefstand.allowContractViolation: true "
                    "to allow it)",
                )
        with self._store.unit_of_work(sandbox) as uow:
            record = dict(uow.get(MAPPINGS_KIND, KEY) or {"own": [], "hidden": [], "next": 0})
            own = [m for m in record["own"] if m["id"] != mapping["id"]]
            number = int(record["next"]) + 1
            own.append({**mapping, "_order": _OWN_FIRST + number})
            hidden = [i for i in record["hidden"] if i != mapping["id"]]
            if any(stub.id == mapping["id"] for stub in self._defaults):
                hidden.append(mapping["id"])  # the sandbox's own replaces the file's
            uow.put(MAPPINGS_KIND, KEY, {"own": own, "hidden": hidden, "next": number})
        return mapping

    def replace(self, sandbox: str, mapping_id: str, data: Any) -> dict[str, Any]:
        self.mapping(sandbox, mapping_id)  # 404 when there is none
        return self.add(sandbox, data, mapping_id)

    def remove(self, sandbox: str, mapping_id: str) -> None:
        self.mapping(sandbox, mapping_id)
        with self._store.unit_of_work(sandbox) as uow:
            record = dict(uow.get(MAPPINGS_KIND, KEY) or {"own": [], "hidden": [], "next": 0})
            record["own"] = [m for m in record["own"] if m["id"] != mapping_id]
            if any(stub.id == mapping_id for stub in self._defaults):
                record["hidden"] = [*record["hidden"], mapping_id]
            uow.put(MAPPINGS_KIND, KEY, record)

    def reset(self, sandbox: str) -> None:
        """Back to the files' mappings (WireMock's reset): the sandbox's own go, removed file mappings return."""
        with self._store.unit_of_work(sandbox) as uow:
            uow.delete(MAPPINGS_KIND, KEY)
            uow.delete(SCENARIOS_KIND, KEY)

    def any_for(self, sandbox: str) -> bool:
        return bool(self._defaults) or self._store.view(sandbox).get(MAPPINGS_KIND, KEY) is not None

    def _stubs(self, sandbox: str) -> list[Stub]:
        record = self._store.view(sandbox).get(MAPPINGS_KIND, KEY)
        if record is None:
            return list(self._defaults)
        hidden = set(record["hidden"])
        own = [Stub.of({k: v for k, v in m.items() if k != "_order"}, int(m["_order"])) for m in record["own"]]
        return [stub for stub in self._defaults if stub.id not in hidden] + own

    # scenarios
    def scenarios(self, sandbox: str) -> list[dict[str, Any]]:
        states = self._states(sandbox)
        found: dict[str, set[str]] = {}
        for stub in self._stubs(sandbox):
            if stub.scenario:
                possible = found.setdefault(stub.scenario, {STARTED})
                for key in ("requiredScenarioState", "newScenarioState"):
                    if stub.data.get(key):
                        possible.add(str(stub.data[key]))
        return [
            {"id": name, "name": name, "state": states.get(name, STARTED), "possibleStates": sorted(possible)}
            for name, possible in sorted(found.items())
        ]

    def set_scenario(self, sandbox: str, name: str, state: str) -> dict[str, Any]:
        known = {s["name"]: s for s in self.scenarios(sandbox)}
        if name not in known:
            raise NotFound(f"no scenario {name!r} in sandbox {sandbox!r}; known: {', '.join(known) or 'none'}")
        with self._store.unit_of_work(sandbox) as uow:
            states = dict(uow.get(SCENARIOS_KIND, KEY) or {})
            states[name] = state
            uow.put(SCENARIOS_KIND, KEY, states)
        return {**known[name], "state": state}

    def reset_scenarios(self, sandbox: str) -> None:
        with self._store.unit_of_work(sandbox) as uow:
            uow.delete(SCENARIOS_KIND, KEY)

    def _states(self, sandbox: str) -> dict[str, str]:
        return dict(self._store.view(sandbox).get(SCENARIOS_KIND, KEY) or {})

    # matching and answering
    def match(self, sandbox: str, request: Request) -> Stub | None:
        """The stub that answers: of those that match (and whose scenario is in the required state), the highest
        priority (1 first), among equals the one added last."""
        states = self._states(sandbox)
        for stub in sorted(self._stubs(sandbox), key=lambda s: (s.priority, -s.order)):
            required = stub.data.get("requiredScenarioState")
            if stub.scenario and required and states.get(stub.scenario, STARTED) != required:
                continue
            if stub.pattern.evaluate(request).matched:
                return stub
        return None

    def served(self, sandbox: str, stub: Stub) -> None:
        """A served stub moves its scenario on."""
        new_state = stub.data.get("newScenarioState")
        if stub.scenario and new_state:
            with self._store.unit_of_work(sandbox) as uow:
                states = dict(uow.get(SCENARIOS_KIND, KEY) or {})
                states[stub.scenario] = str(new_state)
                uow.put(SCENARIOS_KIND, KEY, states)

    def near_misses(self, sandbox: str, request: Request, limit: int = 10) -> list[tuple[Stub, Outcome]]:
        """The stubs closest to a request that none of them matched, closest first."""
        ranked = [(stub, stub.pattern.evaluate(request)) for stub in self._stubs(sandbox)]
        missed = [(stub, outcome) for stub, outcome in ranked if not outcome.matched]
        return sorted(missed, key=lambda pair: pair[1].distance)[:limit]


def answer(stub: Stub, request: Request, base_url: str) -> Answer:
    """What a matched stub sends: status, headers, body (templated when it asks), delay, fault."""
    response = stub.response
    headers = [(str(name), str(value)) for name, value in (response.get("headers") or {}).items()]
    if "jsonBody" in response:
        body = json.dumps(response["jsonBody"], ensure_ascii=False)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
    elif "base64Body" in response:
        body = base64.b64decode(str(response["base64Body"])).decode("latin-1")
    else:
        body = str(response.get("body") or "")
    if stub.templated:
        body = templating.render(body, request, base_url)
        headers = [(name, templating.render(value, request, base_url)) for name, value in headers]
    raw = body.encode("latin-1") if "base64Body" in response else body.encode("utf-8")
    return Answer(
        status=int(response.get("status") or 200),
        headers=headers,
        body=raw,
        delay_ms=int(response.get("fixedDelayMilliseconds") or 0),
        fault=str(response["fault"]) if response.get("fault") else None,
    )


def parse_pattern(data: Any) -> RequestPattern:
    """A verification's request pattern; 400 naming each problem."""
    try:
        return check_request_pattern_data(data)
    except MappingError as exc:
        raise _refusal(exc) from exc
