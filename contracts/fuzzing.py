"""Fuzz an implementation against a contract with Schemathesis (its Python engine, not a subprocess).

The target is a base URL or an ASGI app handed in; this module never imports the mock. The run yields small event
dataclasses; reporters (console, JUnit XML, Markdown) consume them and this module never prints.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpointer
import schemathesis
from schemathesis.config import HealthCheck, SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.engine import Status, events, from_schema

from pruefstand.contracts.domain_checks import register_domain_checks
from pruefstand.contracts.spec_loader import Spec

# Checks that are not run unless asked for: they report correct refusals of business rules as failures
# (positive_data_acceptance) or need an API with a documented rate limit.
DEFAULT_EXCLUDED_CHECKS: tuple[str, ...] = ("positive_data_acceptance",)


@dataclass(frozen=True, slots=True)
class FuzzTarget:
    """What is fuzzed: a contract, and either a base URL or an in-process ASGI app (then `base_path` applies)."""

    spec: Spec
    base_url: str | None = None
    app: Any = None
    base_path: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    excluded_tags: tuple[str, ...] = ()
    # Schemas replaced before fuzzing, by JSON pointer into the contract: what the target's deployment allows beyond
    # what a contract can say (e.g. a hub callback pinned to a loopback listener the fuzzer owns).
    pinned: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Hypothesis health checks that judge the generator, not the target (a contract whose schemas are so large that
    # generated data overruns Hypothesis' size budget now and then): not findings about the API.
    suppressed_health_checks: tuple[str, ...] = ()
    # Checks whose premise the API does not share (e.g. a resource that exists by name, emptied by DELETE).
    skipped_checks: tuple[str, ...] = ()
    # Seconds an answer of a target at a URL may take: a system that stops answering is an error named by its
    # operation, not a run that waits for ever.
    request_timeout: float = 30.0


ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")  # Schemathesis' test phases, in the order they run


@dataclass(frozen=True, slots=True)
class FuzzOptions:
    seed: int = 0
    max_examples: int = 50
    max_time: int | None = None
    excluded_checks: tuple[str, ...] = DEFAULT_EXCLUDED_CHECKS
    phases: tuple[str, ...] | None = None
    # Strings never carry U+0000 unless asked: the mock refuses it in every field (PostgreSQL's jsonb cannot store it,
    # C-string consumers cut it), as do many implementations; Schemathesis' own `allow_x00` option.
    allow_x00: bool = False


@dataclass(frozen=True, slots=True)
class FuzzFinding:
    """One distinct failure: which operation, which check (Schemathesis code), what, and how to reproduce it."""

    operation: str
    check: str
    code: str
    title: str
    message: str
    reproduce: str


@dataclass(frozen=True, slots=True)
class FuzzStarted:
    title: str
    operations: int
    seed: int


@dataclass(frozen=True, slots=True)
class OperationFuzzed:
    operation: str
    phase: str
    status: str
    cases: int
    findings: tuple[FuzzFinding, ...]


@dataclass(frozen=True, slots=True)
class FuzzFinished:
    findings: tuple[FuzzFinding, ...]
    operations: tuple[str, ...]
    cases: int
    seconds: float
    stop_reason: str
    errors: tuple[str, ...] = ()
    answers: int = 0  # responses received
    not_found: int = 0  # of which 404

    @property
    def ok(self) -> bool:
        return not self.findings and not self.errors

    @property
    def looks_misaddressed(self) -> bool:
        """Nearly every answer a 404: the target is most likely not where its paths start (a forgotten base path)."""
        return self.answers >= 20 and self.not_found >= 0.9 * self.answers


FuzzEvent = FuzzStarted | OperationFuzzed | FuzzFinished


def _config(target: FuzzTarget, options: FuzzOptions) -> SchemathesisConfig:
    config = SchemathesisConfig()
    config.update(seed=options.seed, max_time=options.max_time, max_failures=None)
    base_url = target.base_url or f"http://localhost{target.base_path}"
    config.projects.override.update(
        base_url=base_url,
        headers=dict(target.headers),
        suppress_health_check=[HealthCheck(name) for name in target.suppressed_health_checks],
        request_timeout=target.request_timeout if target.base_url else None,
    )
    config.projects.override.generation.update(
        max_examples=options.max_examples, deterministic=True, allow_x00=options.allow_x00
    )
    excluded = [*options.excluded_checks, *(c for c in target.skipped_checks if c not in options.excluded_checks)]
    config.projects.override.checks.update(excluded_check_names=excluded)
    if options.phases is not None:
        config.projects.override.phases.update(phases=list(options.phases))
    return config


def _findings(recorder: Any) -> tuple[FuzzFinding, ...]:
    found: dict[tuple[str, str], FuzzFinding] = {}
    for checks in recorder.checks.values():
        for node in checks:
            if node.status != Status.FAILURE or node.failure_info is None:
                continue
            failure = node.failure_info.failure
            key = (node.name, failure.title)
            if key not in found:
                found[key] = FuzzFinding(
                    operation=recorder.label,
                    check=node.name,
                    code=failure.code,
                    title=failure.title,
                    message=str(failure.message).strip() or str(failure.title),
                    reproduce=node.failure_info.code_sample,
                )
    return tuple(found.values())


def as_server(app: Any) -> Any:
    """Wrap an in-process ASGI app so that an unhandled exception ends as a 500 answer, as under a real server, and is
    reported by the not_a_server_error check instead of aborting the test case."""

    async def served(scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except Exception as exc:
            if scope.get("type") != "http":
                raise
            if started:  # the app answered (Starlette sends its 500, then re-raises for the server to log)
                return
            body = f"Internal Server Error: {type(exc).__name__}: {exc}".encode()
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": body})

    return served


def _pinned(document: Mapping[str, Any], pinned: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of the contract with the schemas at the given JSON pointers replaced; a pointer that names nothing is
    an error (a pin that silently misses would fuzz what it was meant to keep out)."""
    copied = copy.deepcopy(dict(document))
    for pointer, schema in pinned.items():
        try:
            jsonpointer.resolve_pointer(copied, pointer)
        except jsonpointer.JsonPointerException as exc:
            raise ValueError(f"pinned schema {pointer}: not in the contract") from exc
        jsonpointer.set_pointer(copied, pointer, copy.deepcopy(dict(schema)))
    return copied


def fuzz(target: FuzzTarget, options: FuzzOptions) -> Iterator[FuzzEvent]:
    """Run Schemathesis over every operation of the contract; yield progress and, last, the findings."""
    register_domain_checks()
    document = _pinned(target.spec.document, target.pinned)
    schema: Any = schemathesis.openapi.from_dict(document, config=_config(target, options))
    for tag in target.excluded_tags:
        schema = schema.exclude(tag=tag)
    if target.app is not None:
        schema.app = as_server(target.app)
    # Operations the contract defines but Schemathesis cannot load are reported by the engine as errors.
    operations = [result.ok().label for result in schema.get_all_operations() if isinstance(result, Ok)]
    yield FuzzStarted(title=target.spec.title, operations=len(operations), seed=options.seed)
    findings: dict[tuple[str, str, str], FuzzFinding] = {}
    errors: list[str] = []
    cases = 0
    answers = not_found = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            found = _findings(event.recorder)
            cases += len(event.recorder.cases)
            statuses = [i.response.status_code for i in event.recorder.interactions.values() if i.response is not None]
            answers += len(statuses)
            not_found += statuses.count(404)
            for finding in found:
                findings.setdefault((finding.operation, finding.check, finding.title), finding)
            yield OperationFuzzed(
                operation=event.recorder.label,
                phase=str(event.phase.value),
                status=str(event.status.value),
                cases=len(event.recorder.cases),
                findings=found,
            )
        elif isinstance(event, events.NonFatalError):
            error = f"{event.label}: {event.info.title}: {event.info.message}".strip()
            # A contract (or its filtered part) without links has no stateful phase: nothing went wrong.
            if error not in errors and "Missing Open API links" not in error:
                errors.append(error)
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception}")
        elif isinstance(event, events.EngineFinished):
            yield FuzzFinished(
                findings=tuple(findings.values()),
                operations=tuple(operations),
                cases=cases,
                seconds=event.running_time,
                stop_reason=str(event.stop_reason.value),
                errors=tuple(errors),
                answers=answers,
                not_found=not_found,
            )
