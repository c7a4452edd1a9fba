"""Run a scenario against a target: the mock in-process or any base URL. Every message is checked against its
contract (requests unless the step breaks them on purpose, every response always), whatever the step asserts."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import jsonpath

from pruefstand.contracts.listener import CallbackListener, Received
from pruefstand.contracts.message_validation import SchemaValidator
from pruefstand.contracts.scenarios.event_matching import match_events
from pruefstand.contracts.scenarios.events import (
    FAILED,
    PASSED,
    SKIPPED,
    Exchange,
    ScenarioEvent,
    ScenarioFinished,
    ScenarioStarted,
    StepFinished,
)
from pruefstand.contracts.scenarios.expectations import mismatches
from pruefstand.contracts.scenarios.model import Scenario, step_kind, step_request
from pruefstand.contracts.scenarios.templating import TemplateProblem, base_context, render
from pruefstand.contracts.spec_loader import Spec


@dataclass(frozen=True)
class ScenarioTarget:
    """Where scenarios run: one HTTP client per API (its base URL already set), whether it is the mock (mock steps
    run) or a real system (they are skipped), and the environment templates may read."""

    clients: Mapping[str, httpx.Client]
    is_mock: bool
    env: Mapping[str, str] = field(default_factory=dict)
    listener: CallbackListener | None = None
    push_to: str | None = None  # the base URL of a listener under test (push_events steps)
    seed: str | None = None  # run ids and template uuid() from a seeded generator: runs repeat themselves


class StepFailed(Exception):
    """A step's problems, with the exchange that showed them (if one happened)."""

    def __init__(self, problems: list[str], exchange: Exchange | None = None) -> None:
        self.problems = problems
        self.exchange = exchange
        super().__init__("; ".join(problems))


class ScenarioRunner:
    def __init__(self, specs: Mapping[str, Spec], target: ScenarioTarget) -> None:
        self._specs = specs
        self._target = target
        self._validators: dict[tuple[int, str], SchemaValidator] = {}
        self._consumed = 0  # how many of the listener's messages earlier steps have matched
        self._rng = random.Random(target.seed) if target.seed is not None else None

    def _uuid(self) -> str:
        if self._rng is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def run(self, scenario: Scenario) -> Iterator[ScenarioEvent]:
        yield ScenarioStarted(scenario)
        started = time.monotonic()
        context = base_context(self._target.env, self._uuid().replace("-", "")[:12], self._uuid)
        listener = self._target.listener
        if listener is not None:
            context["listener_url"] = listener.url
        if self._target.push_to:
            context["push_to"] = self._target.push_to
        self._consumed = len(listener.received()) if listener is not None else 0
        tokens: dict[str, str] = {}
        finished: list[StepFinished] = []
        try:
            context.update(render(scenario.variables, context))
        except TemplateProblem as exc:
            finished.append(StepFinished(scenario, -1, "variables", "setup", FAILED, (str(exc),)))
        for index, step in enumerate(scenario.steps):
            if any(s.outcome == FAILED for s in finished):
                result = StepFinished(
                    scenario, index, step["name"], step_kind(step), SKIPPED, note="not run: an earlier step failed"
                )
            else:
                result = self._run_step(scenario, index, step, context, tokens)
            finished.append(result)
            yield result
        yield ScenarioFinished(scenario, tuple(finished), time.monotonic() - started)

    def _run_step(  # noqa: C901 (listed in docs/ARCHITECTURE.md, Size rules)
        self, scenario: Scenario, index: int, step: dict[str, Any], context: dict[str, Any], tokens: dict[str, str]
    ) -> StepFinished:
        kind = step_kind(step)
        if kind == "await_events":
            return self._await_events(scenario, index, step, context)
        if kind == "push_events":
            return self._push_events(scenario, index, step, context)
        if kind == "mock" and not self._target.is_mock:
            note = step.get("instead") or "mock control: not available against a real system"
            return StepFinished(scenario, index, step["name"], kind, SKIPPED, note=note)
        exchanges: list[Exchange] = []
        try:
            request = render(step_request(step), context)
            actor_name = request["actor"]
            headers = self._actor_headers(scenario, actor_name, context, tokens, exchanges)
            # `within`: a read of something that settles a moment later (a delivery's outcome) is asked again
            deadline = time.monotonic() + float(request.get("within", 0))
            while True:
                exchange, response_headers = self._send(scenario, actor_name, request, headers)
                expect = request.get("expect", {})
                problems = mismatches(expect, exchange.status, exchange.response_body, response_headers)
                if not problems or time.monotonic() >= deadline:
                    break
                time.sleep(0.02)
            exchanges.append(exchange)
            if problems:
                raise StepFailed(problems)
            for name, path in request.get("save", {}).items():
                values = jsonpath.findall(path, exchange.response_body)
                if not values:
                    raise StepFailed([f"save {name}: nothing at {path} in the answer"])
                context[name] = values[0]
        except StepFailed as exc:
            if exc.exchange is not None:
                exchanges.append(exc.exchange)
            return StepFinished(scenario, index, step["name"], kind, FAILED, tuple(exc.problems), tuple(exchanges))
        except TemplateProblem as exc:
            return StepFinished(scenario, index, step["name"], kind, FAILED, (f"template {exc}",), tuple(exchanges))
        except httpx.HTTPError as exc:
            problem = f"no answer: {type(exc).__name__}: {exc}"
            return StepFinished(scenario, index, step["name"], kind, FAILED, (problem,), tuple(exchanges))
        return StepFinished(scenario, index, step["name"], kind, PASSED, (), tuple(exchanges))

    def _await_events(
        self, scenario: Scenario, index: int, step: dict[str, Any], context: dict[str, Any]
    ) -> StepFinished:
        name = step["name"]
        listener = self._target.listener
        if listener is None:
            note = "no listener: run with --listen HOST:PORT to receive what the system sends"
            return StepFinished(scenario, index, name, "await_events", SKIPPED, note=note)
        try:
            wanted = render(step["await_events"], context)
        except TemplateProblem as exc:
            return StepFinished(scenario, index, name, "await_events", FAILED, (f"template {exc}",))
        deadline = time.monotonic() + float(wanted.get("within", 10))
        in_order = wanted.get("order", "in_order") == "in_order"
        while True:
            fresh = listener.received()[self._consumed :]
            matched, problems = match_events(wanted["events"], fresh, in_order)
            if not problems or time.monotonic() >= deadline:
                break
            listener.wait_for_more(self._consumed + len(fresh), deadline - time.monotonic())  # woken on arrival
        exchanges = [self._incoming(wanted["events"][i], fresh[j]) for i, j in matched]
        if problems:
            return StepFinished(scenario, index, name, "await_events", FAILED, tuple(problems), tuple(exchanges))
        self._consumed += max(j for _, j in matched) + 1
        contract_problems: list[str] = []
        for i, j in matched:
            event, received = wanted["events"][i], fresh[j]
            contract = event.get("contract")
            if contract:
                operation = self._specs[contract["api"]].operation(contract["operation"])
                contract_problems += [
                    f"{received.path}: message breaks the contract: {v}"
                    for v in self._validator(operation, None).violations(received.body)
                ]
            for key, path in event.get("save", {}).items():
                values = jsonpath.findall(path, received.body)
                if values:
                    context[key] = values[0]
                else:
                    contract_problems.append(f"save {key}: nothing at {path} in {received.path}")
        outcome = FAILED if contract_problems else PASSED
        return StepFinished(scenario, index, name, "await_events", outcome, tuple(contract_problems), tuple(exchanges))

    def _push_events(
        self, scenario: Scenario, index: int, step: dict[str, Any], context: dict[str, Any]
    ) -> StepFinished:
        """pruefstand sends the events (playing the system that emits them) to a listener under test, each checked
        against the listener contract, and checks every answer; the first event that fails ends the step."""
        name = step["name"]
        try:
            wanted = render(step["push_events"], context)
        except TemplateProblem as exc:
            return StepFinished(scenario, index, name, "push_events", FAILED, (f"template {exc}",))
        target = wanted.get("target") or self._target.push_to
        if not target:
            note = "no listener to push to: run with --push-to URL (the base URL of the listener under test)"
            return StepFinished(scenario, index, name, "push_events", SKIPPED, note=note)
        spec = self._specs[wanted["api"]]
        exchanges: list[Exchange] = []
        with httpx.Client(timeout=float(wanted.get("timeout", 30))) as client:
            for number, event in enumerate(wanted["events"], start=1):
                operation = spec.operation(event["operation"])
                try:
                    body = self._body(operation, event)
                except StepFailed as exc:
                    return StepFinished(scenario, index, name, "push_events", FAILED, tuple(exc.problems))
                problems = [
                    f"event {number} ({event['operation']}) breaks the contract: {v}"
                    for v in self._validator(operation, None).violations(body)
                ]
                url = str(target).rstrip("/") + operation["path"]
                started = time.monotonic()
                try:
                    response = client.post(url, json=body, headers=event.get("headers", {}))
                except httpx.HTTPError as exc:
                    problems.append(f"event {number} ({event['operation']}): no answer from {url}: {exc}")
                    return StepFinished(scenario, index, name, "push_events", FAILED, tuple(problems), tuple(exchanges))
                answer = _answer(response)
                exchanges.append(
                    Exchange(
                        actor="pruefstand",
                        api=wanted["api"],
                        operation=event["operation"],
                        method="POST",
                        path=operation["path"],
                        request_body=body,
                        status=response.status_code,
                        response_body=answer,
                        seconds=time.monotonic() - started,
                        pushed=True,
                    )
                )
                problems += [
                    f"event {number} ({event['operation']}): {p}"
                    for p in self._response_problems(operation, response.status_code, answer)
                    + mismatches(event.get("expect", {}), response.status_code, answer, response.headers)
                ]
                if problems:
                    return StepFinished(scenario, index, name, "push_events", FAILED, tuple(problems), tuple(exchanges))
        return StepFinished(scenario, index, name, "push_events", PASSED, (), tuple(exchanges))

    @staticmethod
    def _incoming(event: Mapping[str, Any], received: Received) -> Exchange:
        contract = event.get("contract") or {}
        return Exchange(
            actor="listener",
            api=str(contract.get("api", "")),
            operation=str(contract.get("operation", received.path)),
            method=received.method,
            path=received.path,
            request_body=received.body,
            status=200,
            response_body=None,
            seconds=0.0,
            incoming=True,
        )

    def _actor_headers(
        self,
        scenario: Scenario,
        actor_name: str,
        context: dict[str, Any],
        tokens: dict[str, str],
        exchanges: list[Exchange],
    ) -> dict[str, str]:
        actor = render(scenario.actors[actor_name], context)
        headers = dict(actor.get("headers", {}))
        auth = actor.get("auth", {})
        if "bearer" in auth:
            headers["Authorization"] = f"Bearer {auth['bearer']}"
        elif "password_grant" in auth:
            if actor_name not in tokens:
                grant = auth["password_grant"]
                request = {"operation": grant["operation"], "form": grant.get("form", {}), "actor": actor_name}
                exchange, _ = self._send(scenario, actor_name, request, dict(headers))
                exchanges.append(exchange)
                token = (
                    exchange.response_body.get(grant.get("token_field", "access_token"))
                    if isinstance(exchange.response_body, dict)
                    else None
                )
                if exchange.status != 200 or not isinstance(token, str):
                    raise StepFailed([f"token for {actor_name}: {grant['operation']} answered {exchange.status}"])
                tokens[actor_name] = token
            headers["Authorization"] = f"Bearer {tokens[actor_name]}"
        return headers

    def _send(
        self, scenario: Scenario, actor_name: str, request: Mapping[str, Any], headers: dict[str, str]
    ) -> tuple[Exchange, Mapping[str, str]]:
        api = scenario.actors[actor_name]["api"]
        spec = self._specs[api]
        operation = spec.operation(request["operation"])
        path = operation["path"]
        for name, value in request.get("path", {}).items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        body = self._body(operation, request)
        problems: list[str] = []
        if body is not None and request.get("request_valid", True):
            problems += [f"request breaks the contract: {v}" for v in self._validator(operation, None).violations(body)]
        client = self._target.clients[api]
        media = _json_media_type(operation)
        sent = {**headers, **request.get("headers", {})}
        content = None
        if body is not None and "form" not in request:
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            sent.setdefault("Content-Type", media)
        started = time.monotonic()
        response = client.request(
            operation["method"].upper(),
            path.lstrip("/"),
            params=request.get("query"),
            headers=sent,
            content=content,
            data=request.get("form"),
        )
        seconds = time.monotonic() - started
        answer = _answer(response)
        problems += _with_base_path_hint(self._response_problems(operation, response.status_code, answer), response)
        exchange = Exchange(
            actor=actor_name,
            api=api,
            operation=request["operation"],
            method=operation["method"].upper(),
            path=path,
            request_body=body if body is not None else request.get("form"),
            status=response.status_code,
            response_body=answer,
            seconds=seconds,
        )
        if problems:
            raise StepFailed(problems, exchange)
        return exchange, response.headers

    @staticmethod
    def _body(operation: Mapping[str, Any], request: Mapping[str, Any]) -> Any:
        body = request.get("body")
        if "example" in request:
            media = operation["requestBody"]["content"][_json_media_type(operation)]
            body = json.loads(json.dumps(media["examples"][request["example"]]["value"]))
        if "patch" in request:
            if not isinstance(body, dict | list):
                raise StepFailed(["patch: there is no JSON object or array to patch (give example or body)"])
            body = jsonpath.JSONPatch(request["patch"]).apply(body)
        return body

    def _validator(self, operation: Mapping[str, Any], status: str | None) -> SchemaValidator:
        if status is None:
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get(_json_media_type(operation), {}).get("schema", {})
        else:
            schema = operation["responses"][status].get("content", {}).get("application/json", {}).get("schema", {})
        key = (id(schema), status or "request")
        if key not in self._validators:
            self._validators[key] = SchemaValidator(schema)
        return self._validators[key]

    def _response_problems(self, operation: Mapping[str, Any], status: int, answer: Any) -> list[str]:
        responses = operation.get("responses", {})
        documented = str(status) if str(status) in responses else ("default" if "default" in responses else None)
        if documented is None:
            return [f"answer {status} is not documented for {operation.get('operationId')} ({', '.join(responses)})"]
        if answer is None or isinstance(answer, str):
            return []
        return [f"answer breaks the contract: {v}" for v in self._validator(operation, documented).violations(answer)]


def _with_base_path_hint(problems: list[str], response: httpx.Response) -> list[str]:
    """An undocumented 404 most often means the request went to the wrong place: say where it went."""
    if response.status_code == 404 and problems and "is not documented" in problems[0]:
        problems[0] += (
            f": nothing answers at {response.request.url.copy_with(query=None)}; is the API's base path right "
            "(--url is the system's root, each API at its base path; or --api-url NAME=URL)?"
        )
    return problems


def _json_media_type(operation: Mapping[str, Any]) -> str:
    """The operation's JSON request media type (application/json, or e.g. application/merge-patch+json)."""
    content = operation.get("requestBody", {}).get("content", {})
    return next((media for media in content if media.split(";")[0].strip().endswith("json")), "application/json")


def _answer(response: httpx.Response) -> Any:
    """The answer's body: JSON when it is JSON, else its text (an empty body is None)."""
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "")
        return (
            response.text
            if kind.startswith(("text/", "application/xml"))
            else f"<{len(response.content)} bytes {kind}>"
        )
