"""Record exchanges seen on the wire as a scenario file that `pruefstand replay` runs.

Each exchange becomes a request step: the operation, its path parameters, query, the headers that carry meaning, the
body as sent, and the status that came back. Values the server made up and the client sent back later (an order's
id in the next request's path) become variables: the step that produced the value saves it, later steps use
`{{ name }}`, so the scenario replays against a fresh system that makes up other values. Scalars the answer echoed
from the request become a `subset` expectation.

An exchange whose answer broke the contract is left out unless asked (a recording is a regression test of what
worked; the broken answer is reported where it was seen) and named in the scenario's description; so are requests
for no operation of the contract and bodies that are neither JSON nor a form (a scenario cannot send them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})
# headers that belong to one connection or one client, not to what the request means
_TRANSPORT_HEADERS = frozenset({
    "host", "content-length", "connection", "accept-encoding", "user-agent", "accept", "transfer-encoding", "te",
    "keep-alive", "upgrade", "x-request-id", "traceparent", "tracestate", "expect",
})  # fmt: skip
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TOKEN_VARIABLE = "PRUEFSTAND_RECORDED_TOKEN"


@dataclass(frozen=True)
class RecordedExchange:
    """One exchange as the proxy saw it; `body` is the parsed JSON body (or None), `form` a form body."""

    operation_id: str | None
    method: str
    path: str
    path_params: Mapping[str, str]
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: Any
    form: Mapping[str, str] | None
    body_bytes: int
    status: int
    answer: Any
    request_problems: list[str] = field(default_factory=list)
    answer_problems: list[str] = field(default_factory=list)


class ScenarioRecorder:
    """Collects exchanges of one API and writes them as one scenario."""

    def __init__(self, api: str, *, name: str, source: str = "", keep_broken_answers: bool = False) -> None:
        self.api = api
        self.name = name
        self.source = source
        self.keep_broken_answers = keep_broken_answers
        self._steps: list[dict[str, Any]] = []
        self._left_out: list[str] = []
        self._known: dict[str, tuple[str, int, str]] = {}  # value -> (variable, step index, JSONPath)
        self._names: set[str] = set()
        self._bearer = False

    @property
    def step_count(self) -> int:
        return len(self._steps)

    def add(self, exchange: RecordedExchange) -> str | None:
        """Record the exchange; the reason if it was left out."""
        where = f"{exchange.method} {exchange.path} -> {exchange.status}"
        reason = self._why_left_out(exchange)
        if reason:
            self._left_out.append(f"{where}: {reason}")
            return reason
        assert exchange.operation_id is not None
        index = len(self._steps)
        request: dict[str, Any] = {"actor": "client", "operation": exchange.operation_id}
        if exchange.path_params:
            request["path"] = {k: self._use(v) for k, v in exchange.path_params.items()}
        if exchange.query:
            request["query"] = {k: self._use(v) for k, v in exchange.query}
        kept = {k: self._use(v) for k, v in exchange.headers.items() if _meaningful(k, v)}
        if kept:
            request["headers"] = kept
        if exchange.form is not None:
            request["form"] = {k: self._use(v) for k, v in exchange.form.items()}
        elif exchange.body is not None:
            request["body"] = self._use(exchange.body)
        if exchange.request_problems:
            request["request_valid"] = False
        expect: dict[str, Any] = {"status": exchange.status}
        echoed = _echoed(exchange.body, exchange.answer)
        if echoed:
            expect["subset"] = self._use(echoed)
        request["expect"] = expect
        if str(exchange.headers.get("authorization", "")).lower().startswith("bearer "):
            self._bearer = True
        self._steps.append({"name": f"{exchange.operation_id}: {exchange.method} {exchange.path} -> {exchange.status}",
                            "request": request})  # fmt: skip
        self._learn(index, exchange)
        return None

    def document(self) -> dict[str, Any]:
        actor: dict[str, Any] = {"api": self.api}
        if self._bearer:
            actor["auth"] = {"bearer": "{{ env." + TOKEN_VARIABLE + " }}"}
        description = f"Recorded by pruefstand proxy: {len(self._steps)} exchange(s)."
        if self._bearer:
            description += f" The client's bearer token is not kept: set {TOKEN_VARIABLE} before replaying."
        if self._left_out:
            description += " Left out: " + "; ".join(self._left_out)
        document: dict[str, Any] = {"name": self.name, "description": description}
        if self.source:
            document["source"] = self.source
        document.update({"apis": [self.api], "actors": {"client": actor}, "steps": self._steps})
        return document

    def yaml(self) -> str:
        return yaml.safe_dump(self.document(), sort_keys=False, allow_unicode=True, width=120)

    def _why_left_out(self, exchange: RecordedExchange) -> str | None:
        if exchange.operation_id is None:
            return "no operation of the contract"
        if exchange.body is None and exchange.form is None and exchange.body_bytes:
            return "a body that is neither JSON nor a form (a scenario cannot send it)"
        if exchange.answer_problems and not self.keep_broken_answers:
            return "the answer broke the contract (" + "; ".join(exchange.answer_problems[:3]) + ")"
        return None

    def _use(self, value: Any) -> Any:
        """The value, with every string the server made up earlier replaced by its variable (saved where it came)."""
        if isinstance(value, str) and value in self._known:
            variable, step, path = self._known[value]
            self._steps[step]["request"].setdefault("save", {})[variable] = path
            return "{{ " + variable + " }}"
        if isinstance(value, dict):
            return {k: self._use(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._use(v) for v in value]
        return value

    def _learn(self, index: int, exchange: RecordedExchange) -> None:
        """Remember the strings of the answer that the client did not send itself: made up by the server."""
        sent = set(_strings(exchange.body)) | set(exchange.path_params.values()) | {v for _, v in exchange.query}
        sent |= set((exchange.form or {}).values())
        for path, value in _leaves(exchange.answer, "$"):
            if len(value) < 4 or value in sent or value in self._known:
                continue
            variable = self._variable(path)
            self._known[value] = (variable, index, path)

    def _variable(self, path: str) -> str:
        base = re.sub(r"\W", "_", path.rsplit(".", 1)[-1]).strip("_") or "value"
        base = base if not base[0].isdigit() else f"v_{base}"
        name, number = base, 2
        while name in self._names:
            name, number = f"{base}_{number}", number + 1
        self._names.add(name)
        return name


def _meaningful(name: str, value: str) -> bool:
    lowered = name.lower()
    if lowered in _TRANSPORT_HEADERS or lowered in SECRET_HEADERS or lowered.startswith("x-forwarded-"):
        return False
    media = value.split(";")[0].strip().lower()
    return not (lowered == "content-type" and media in ("application/json", "application/x-www-form-urlencoded"))


def _echoed(sent: Any, answer: Any) -> dict[str, Any]:
    """The top-level scalars of the answer that equal what the request sent under the same name."""
    if not isinstance(sent, dict) or not isinstance(answer, dict):
        return {}
    return {k: v for k, v in answer.items() if k in sent and sent[k] == v and isinstance(v, str | int | float | bool)}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(JSONPath, string) for every string in the answer reachable through identifier keys."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _IDENTIFIER.fullmatch(key):
                yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _leaves(item, f"{path}[{number}]")
