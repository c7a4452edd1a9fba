"""Fuzz an implementation against a contract with Schemathesis (its Python engine, not a subprocess).

The target is a base URL or an ASGI app handed in; this module never imports the mock. The run yields small event
dataclasses; reporters (console, JUnit XML, Markdown) consume them and this module never prints.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonpointer
import schemathesis
from schemathesis.config import ConfigError, HealthCheck, SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.engine import Status, events, from_schema

from pruefstand.contracts.auth_providers import AuthProvider, TlsSettings
from pruefstand.contracts.domain_checks import register_domain_checks
from pruefstand.contracts.errors import ContractError
from pruefstand.contracts.fuzz_records import CheckOutcome, Exchange, check_outcomes, failing_exchanges
from pruefstand.contracts.operation_selection import OperationRef, OperationSelection
from pruefstand.contracts.pacing import check_rate
from pruefstand.contracts.secret_mask import SecretMask
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
    auth: AuthProvider | None = None
    tls: TlsSettings = field(default_factory=TlsSettings)

    @property
    def mask(self) -> SecretMask:
        """What reports must not show: the auth provider's secrets and the values of credential headers given."""
        given = [v.partition(" ")[2] or v for k, v in self.headers.items() if k.lower() == "authorization"]
        provider = self.auth
        return SecretMask(lambda: [*given, *(provider.secrets() if provider else ())])


ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")  # Schemathesis' test phases, in the order they run


@dataclass(frozen=True, slots=True)
class FuzzOptions:
    """What the run does. None: not given, so a schemathesis.toml setting applies, else pruefstand's default
    (seed 0, 50 examples, no U+0000, positive_data_acceptance off); Schemathesis' own default after that."""

    seed: int | None = None
    max_examples: int | None = None
    max_time: int | None = None
    max_failures: int | None = None
    workers: int | None = None
    rate_limit: str | None = None  # "N/s", "N/m": shared by all workers (Schemathesis' limiter)
    request_timeout: float | None = None
    checks: tuple[str, ...] | None = None  # only these
    excluded_checks: tuple[str, ...] | None = None
    phases: tuple[str, ...] | None = None
    # Strings never carry U+0000 unless asked: the mock refuses it in every field (PostgreSQL's jsonb cannot store it,
    # C-string consumers cut it), as do many implementations; Schemathesis' own `allow_x00` option.
    allow_x00: bool | None = None
    selection: OperationSelection = field(default_factory=OperationSelection)
    schemathesis_config: Path | None = None  # default: schemathesis.toml found as Schemathesis finds it

    def __post_init__(self) -> None:
        known = check_names()
        for option, names in (("--checks", self.checks or ()), ("--exclude-checks", self.excluded_checks or ())):
            for name in names:
                if name not in known:
                    raise ContractError(f"{option}: no check named {name!r} (known: {', '.join(known)})")
        for phase in self.phases or ():
            if phase not in ALL_PHASES:
                raise ContractError(f"--phases: no phase named {phase!r} (known: {', '.join(ALL_PHASES)})")
        if self.rate_limit is not None:
            check_rate(self.rate_limit)
        for option, number in (
            ("--max-examples", self.max_examples),
            ("--max-failures", self.max_failures),
            ("--workers", self.workers),
            ("--max-time", self.max_time),
        ):
            if number is not None and number < 1:
                raise ContractError(f"{option}: {number} is not a positive number")
        if self.request_timeout is not None and self.request_timeout <= 0:
            raise ContractError(f"--request-timeout: {self.request_timeout} is not a positive number of seconds")


def check_names() -> list[str]:
    """Every check a run can name: Schemathesis' own and the kit's domain checks."""
    import schemathesis.specs.openapi.checks  # noqa: F401 (registers Schemathesis' OpenAPI checks)
    from schemathesis.checks import CHECKS

    register_domain_checks()
    return list(CHECKS.get_all_names())


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
    outcomes: tuple[CheckOutcome, ...] = ()  # every check run, for the JSON Lines report
    failing: tuple[Exchange, ...] = ()  # the exchanges of failing cases (with the steps before them), for cassettes


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


def _schemathesis_config(options: FuzzOptions) -> tuple[SchemathesisConfig, dict[str, Any]]:
    """schemathesis.toml (the file given, else the one Schemathesis itself would find) and its raw table, whose keys
    say which of pruefstand's defaults it overrides."""
    try:
        config = (
            SchemathesisConfig.from_path(options.schemathesis_config)
            if options.schemathesis_config
            else SchemathesisConfig.discover()
        )
    except (ConfigError, OSError, tomllib.TOMLDecodeError) as exc:
        raise ContractError(f"schemathesis.toml: {exc}") from exc
    raw: dict[str, Any] = {}
    if config.config_path:
        with open(config.config_path, "rb") as file:
            raw = tomllib.load(file)
    return config, raw


def _config(target: FuzzTarget, options: FuzzOptions) -> SchemathesisConfig:
    config, raw = _schemathesis_config(options)
    generation, checks = raw.get("generation", {}), raw.get("checks", {})
    seed = options.seed if options.seed is not None else (None if "seed" in raw else 0)
    config.update(seed=seed, max_time=options.max_time, max_failures=options.max_failures)
    base_url = target.base_url or f"http://localhost{target.base_path}"
    override = config.projects.override
    override.update(
        base_url=base_url,
        headers=dict(target.headers),
        suppress_health_check=[HealthCheck(name) for name in target.suppressed_health_checks],
        request_timeout=options.request_timeout or (target.request_timeout if target.base_url else None),
        workers=options.workers,
        rate_limit=options.rate_limit,
        request_cert=str(target.tls.cert) if target.tls.cert else None,
        request_cert_key=str(target.tls.key) if target.tls.key else None,
        tls_verify=str(target.tls.ca) if target.tls.ca else None,
    )
    max_examples = options.max_examples or (None if "max-examples" in generation else 50)
    allow_x00 = options.allow_x00 if options.allow_x00 is not None else (None if "allow-x00" in generation else False)
    deterministic = None if "deterministic" in generation else True
    override.generation.update(max_examples=max_examples, deterministic=deterministic, allow_x00=allow_x00)
    excluded = list(options.excluded_checks) if options.excluded_checks is not None else None
    if excluded is None and not any(name in checks for name in DEFAULT_EXCLUDED_CHECKS) and options.checks is None:
        excluded = list(DEFAULT_EXCLUDED_CHECKS)
    excluded = [*(excluded or []), *(c for c in target.skipped_checks if c not in (excluded or []))]
    override.checks.update(
        included_check_names=list(options.checks) if options.checks is not None else None,
        excluded_check_names=excluded or None,
    )
    if options.phases is not None:
        override.phases.update(phases=list(options.phases))
    return config


def _reference(operation: Any) -> OperationRef:
    raw = operation.definition.raw
    return OperationRef(
        operation_id=str(raw.get("operationId", "")),
        path=str(operation.path),
        method=str(operation.method),
        tags=tuple(str(t) for t in raw.get("tags") or ()),
    )


def _findings(recorder: Any, mask: SecretMask) -> tuple[FuzzFinding, ...]:
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
                    message=mask.text(str(failure.message).strip() or str(failure.title)),
                    reproduce=mask.text(node.failure_info.code_sample),
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


@dataclass(frozen=True, slots=True)
class FuzzPlan:
    """What a run would do (`--dry-run`): the operations selected, the checks and phases that run."""

    operations: tuple[OperationRef, ...]
    checks: tuple[str, ...]
    phases: tuple[str, ...]
    seed: int


def _schema(target: FuzzTarget, options: FuzzOptions) -> tuple[Any, SchemathesisConfig]:
    register_domain_checks()
    document = _pinned(target.spec.document, target.pinned)
    config = _config(target, options)
    schema: Any = schemathesis.openapi.from_dict(document, config=config)
    for tag in target.excluded_tags:
        schema = schema.exclude(tag=tag)
    if not options.selection.is_everything:
        selection = options.selection
        schema = schema.include(func=lambda ctx: selection.selects(_reference(ctx.operation)))
    if target.app is not None:
        schema.app = as_server(target.app)
    if target.auth is not None:
        schema.auth(refresh_interval=None)(_schemathesis_auth(target.auth))
    return schema, config


def _schemathesis_auth(provider: AuthProvider) -> type:
    """The provider as a Schemathesis auth provider class: asked per case (the provider renews its own token);
    Schemathesis leaves it out where a case tests a missing or wrong credential on purpose."""

    class Provided:
        def get(self, case: Any, ctx: Any) -> dict[str, str]:  # noqa: ARG002 (the signature is the library's)
            return provider.headers()

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:  # noqa: ARG002 (the signature is the library's)
            case.headers = {**(case.headers or {}), **data}

    return Provided


def plan(target: FuzzTarget, options: FuzzOptions) -> FuzzPlan:
    """What `fuzz` would run, computed as the run computes it, without sending a request."""
    schema, config = _schema(target, options)
    refs = tuple(_reference(result.ok()) for result in schema.get_all_operations() if isinstance(result, Ok))
    project = config.projects.get(schema.raw_schema)
    checks = tuple(name for name in check_names() if project.checks.get_by_name(name=name).enabled)
    phases = tuple(name for name in ALL_PHASES if getattr(project.phases, name).enabled)
    return FuzzPlan(operations=refs, checks=checks, phases=phases, seed=config.seed)


def fuzz(target: FuzzTarget, options: FuzzOptions) -> Iterator[FuzzEvent]:
    """Run Schemathesis over the selected operations of the contract; yield progress and, last, the findings."""
    schema, config = _schema(target, options)
    mask = target.mask
    # Operations the contract defines but Schemathesis cannot load are reported by the engine as errors.
    operations = [result.ok().label for result in schema.get_all_operations() if isinstance(result, Ok)]
    yield FuzzStarted(title=target.spec.title, operations=len(operations), seed=config.seed)
    findings: dict[tuple[str, str, str], FuzzFinding] = {}
    errors: list[str] = []
    cases = 0
    answers = not_found = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            found = _findings(event.recorder, mask)
            cases += len(event.recorder.cases)
            statuses = [i.response.status_code for i in event.recorder.interactions.values() if i.response is not None]
            answers += len(statuses)
            not_found += statuses.count(404)
            for finding in found:
                findings.setdefault((finding.operation, finding.check, finding.title), finding)
            phase = str(event.phase.value)
            yield OperationFuzzed(
                operation=event.recorder.label,
                phase=phase,
                status=str(event.status.value),
                cases=len(event.recorder.cases),
                findings=found,
                outcomes=check_outcomes(event.recorder, phase, mask),
                failing=failing_exchanges(event.recorder, mask),
            )
        elif isinstance(event, events.NonFatalError):
            error = mask.text(f"{event.label}: {event.info.title}: {event.info.message}".strip())
            # A contract (or its filtered part) without links has no stateful phase: nothing went wrong.
            if error not in errors and "Missing Open API links" not in error:
                errors.append(error)
        elif isinstance(event, events.FatalError):
            errors.append(mask.text(f"fatal: {event.exception}"))
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
