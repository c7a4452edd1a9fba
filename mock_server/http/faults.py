"""Faults and latency on demand: per sandbox (rules set through the admin API, by method and path) or per request
(`Prefer: pruefstand-latency=200, pruefstand-status=503, pruefstand-fault=drop`, RFC 7240 preference tokens).

What a fault does: wait a fixed time plus a random jitter; answer a status in the API's own error shape; send the
body slowly in chunks (`slow-body`); or start the answer and drop the connection half-way (`drop`). Every injected
fault is named in the request journal (`fault`). Rules are read from the store and kept a second per process, so
every worker and replica applies them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pruefstand.contracts import Violation
from pruefstand.mock_server.kernel.errors import BadRequest, MockError
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name
from pruefstand.mock_server.store import Store

KIND, KEY = "faults", "rules"
SCOPE_KEY = "pruefstand.fault"  # what was injected, for the journal
KINDS = ("drop", "slow-body")
_CACHE_SECONDS = 1.0


class InjectedFault(MockError):
    """A status asked for by a fault rule or a Prefer header; rendered in the API's own error shape."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Fault:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    status: int | None = None
    kind: str | None = None  # drop | slow-body
    source: str = "header"

    def describe(self) -> str:
        parts = [f"latency {self.latency_ms:g}+{self.jitter_ms:g}ms" if self.latency_ms or self.jitter_ms else ""]
        parts += [f"status {self.status}" if self.status else "", self.kind or ""]
        return f"{', '.join(p for p in parts if p)} ({self.source})"


def from_prefer(header: str | None) -> Fault | None:
    """The fault a `Prefer` header asks for, or None; a malformed preference is a 400 naming it."""
    if not header or "pruefstand-" not in header:
        return None
    found: dict[str, str] = {}
    for token in header.replace(";", ",").split(","):
        name, _, value = token.strip().partition("=")
        if name.startswith("pruefstand-"):
            found[name.removeprefix("pruefstand-")] = value.strip().strip('"')
    return _checked(found, "header Prefer", "header", _FAULT_SETTINGS)


_FAULT_SETTINGS = frozenset({"latency", "jitter", "status", "fault"})
_RULE_SETTINGS = _FAULT_SETTINGS | {"method", "path", "probability"}


def _checked(given: Mapping[str, Any], where: str, source: str, known: frozenset[str]) -> Fault:
    def number(name: str, low: float, high: float) -> float:
        raw = given.get(name)
        if raw in (None, ""):
            return 0.0
        try:
            value = float(str(raw).removesuffix("ms"))
        except ValueError:
            raise BadRequest([Violation(where, f"{name}={raw!r} is not a number of milliseconds")]) from None
        if not low <= value <= high:
            raise BadRequest([Violation(where, f"{name}={raw!r} is outside {low:g}..{high:g}")])
        return value

    unknown = sorted(set(given) - known)
    if unknown:
        raise BadRequest([Violation(where, f"unknown fault setting {unknown[0]!r}; known: {', '.join(sorted(known))}")])
    status = int(number("status", 0, 599)) or None
    if status is not None and status < 400:
        raise BadRequest([Violation(where, f"status={status}: an injected status is an error, 400..599")])
    kind = given.get("fault") or None
    if kind is not None and kind not in KINDS:
        raise BadRequest([Violation(where, f"fault={kind!r} is not one of {', '.join(KINDS)}")])
    return Fault(number("latency", 0, 60_000), number("jitter", 0, 60_000), status, kind, source)


@dataclass(frozen=True, slots=True)
class Rule:
    fault: Fault
    method: str | None = None
    path: str | None = None  # a part of the path
    probability: float = 1.0

    def applies(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path in path)


class FaultRules:
    """The sandbox's rules in the store, read at most once a second per process."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, tuple[float, list[Rule]]] = {}

    def set(self, sandbox: str, rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        for number, rule in enumerate(rules):  # refused whole before anything is stored
            self._rule(rule, f"$.rules[{number}]")
        with self._store.transaction() as uow:
            uow.put(sandbox, KIND, KEY, {"rules": [dict(r) for r in rules]})
        self._cache.pop(sandbox, None)
        return [dict(r) for r in rules]

    def get(self, sandbox: str) -> list[dict[str, Any]]:
        return list((self._store.get(sandbox, KIND, KEY) or {}).get("rules", []))

    def fault_for(self, sandbox: str, method: str, path: str) -> Fault | None:
        for rule in self._rules(sandbox):
            if rule.applies(method, path) and random.random() < rule.probability:
                return rule.fault
        return None

    def any_for(self, sandbox: str) -> bool:
        """Whether the sandbox has fault rules at all (a request that might meet one takes the normal path)."""
        return bool(self._rules(sandbox))

    def _rules(self, sandbox: str) -> list[Rule]:
        now = time.monotonic()
        cached = self._cache.get(sandbox)
        if cached is None or now - cached[0] > _CACHE_SECONDS:
            rules = [self._rule(r, "stored rule") for r in self.get(sandbox)]
            cached = self._cache[sandbox] = (now, rules)
        return cached[1]

    @staticmethod
    def _rule(data: Mapping[str, Any], where: str) -> Rule:
        fault = _checked(data, where, "rule", _RULE_SETTINGS)
        probability = float(data.get("probability", 1.0))
        if not 0 < probability <= 1:
            raise BadRequest([Violation(where, f"probability={probability} is outside (0, 1]")])
        if not (fault.latency_ms or fault.jitter_ms or fault.status or fault.kind):
            raise BadRequest([Violation(where, "injects nothing: give latency, jitter, status or fault")])
        method = str(data["method"]).upper() if data.get("method") else None
        return Rule(fault, method, str(data["path"]) if data.get("path") else None, probability)


class FaultMiddleware:
    """Inside the error handler (an injected status is answered in the API's shape), outside everything else."""

    def __init__(self, app: ASGIApp, *, rules: FaultRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(("/_admin", "/healthz")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        fault = from_prefer(headers.get("prefer"))
        if fault is None:
            try:
                sandbox = sandbox_name(headers.get(SANDBOX_HEADER.lower()))
            except MockError:
                sandbox = None
            fault = self.rules.fault_for(sandbox, str(scope.get("method")), path) if sandbox else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = fault.describe()
        delay = fault.latency_ms + random.uniform(0, fault.jitter_ms)
        if delay:
            await asyncio.sleep(delay / 1000)
        if fault.status:
            raise InjectedFault(fault.status, f"injected fault: status {fault.status} ({fault.source})")
        if fault.kind == "slow-body":
            await self.app(scope, receive, _slowly(send))
        elif fault.kind == "drop":
            await self.app(scope, receive, _dropping(send))
        else:
            await self.app(scope, receive, send)


def _slowly(send: Send, pieces: int = 8, pause: float = 0.1) -> Send:
    """The answer's body in `pieces` chunks, `pause` seconds apart."""

    async def sending(message: Message) -> None:
        if message["type"] != "http.response.body" or message.get("more_body"):
            await send(message)
            return
        body = message.get("body", b"")
        size = max(1, -(-len(body) // pieces))
        chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        for number, chunk in enumerate(chunks):
            last = number == len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})
            if not last:
                await asyncio.sleep(pause)

    return sending


def _dropping(send: Send) -> Send:
    """Half of the body goes out, then nothing more: the app ends without finishing the answer and the server closes
    the connection (the client sees an answer cut off)."""
    dropped = False

    async def sending(message: Message) -> None:
        nonlocal dropped
        if dropped:
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        body = message.get("body", b"")
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        dropped = True

    return sending
