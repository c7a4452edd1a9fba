"""Stub mappings in WireMock's own JSON format: checked against WireMock's published `stub-mapping` schema
(specs/wiremock/wiremock-admin-api.json, unchanged), then against what pruefstand supports, each problem named by
its place. Files in WireMock's `mappings/` layout load as they are: one mapping per file, or `{"mappings": [...]}`.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from pruefstand.contracts.spec_catalog import specs_root
from pruefstand.mock_server.stubs import templating
from pruefstand.mock_server.stubs.patterns import RequestPattern, check_request_pattern

DEFAULT_PRIORITY = 5  # WireMock's: 1 is the highest
STARTED = "Started"  # every scenario's first state
TEMPLATE = "response-template"
FAULTS = ("CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK", "RANDOM_DATA_THEN_CLOSE")
_RESPONSE_FIELDS = {"status", "statusMessage", "headers", "body", "base64Body", "jsonBody", "fixedDelayMilliseconds",
                    "fault", "transformers", "transformerParameters"}  # fmt: skip
_TOP_FIELDS = {"id", "uuid", "name", "request", "response", "persistent", "priority", "scenarioName",
               "requiredScenarioState", "newScenarioState", "metadata"}  # fmt: skip


class MappingError(ValueError):
    """A mapping WireMock's schema refuses, or one asking for what pruefstand does not do; every problem named."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@functools.cache
def _validator(schema_name: str) -> Draft7Validator:
    document = json.loads((specs_root() / "wiremock" / "wiremock-admin-api.json").read_text(encoding="utf-8"))
    resource = Resource.from_contents(document, default_specification=DRAFT7)
    registry: Registry[Any] = Registry().with_resource("urn:wiremock-admin-api", resource)
    return Draft7Validator({"$ref": f"urn:wiremock-admin-api#/components/schemas/{schema_name}"}, registry=registry)


def _schema_problems(schema_name: str, data: Any, where: str) -> list[str]:
    error = best_match(_validator(schema_name).iter_errors(data))
    if error is None:
        return []
    place = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return [f"{where}{place}: {error.message} (WireMock's {schema_name} schema)"]


def check_request_pattern_data(data: Any, where: str = "$") -> RequestPattern:
    """A verification's request pattern, checked like a mapping's `request`."""
    problems = _schema_problems("request-pattern", data, where) or check_request_pattern(data, where)
    if problems:
        raise MappingError(problems)
    return RequestPattern(data)


def normalized(data: Any, where: str = "$", mapping_id: str | None = None) -> dict[str, Any]:
    """The mapping with its `id` (given, `uuid`, or new) and its defaults; MappingError names every problem."""
    problems = _schema_problems("stub-mapping", data, where)
    if problems:
        raise MappingError(problems)
    assert isinstance(data, Mapping)
    problems += [f"{where}.{key}: not supported by pruefstand's stubs" for key in data if key not in _TOP_FIELDS]
    problems += check_request_pattern(data.get("request", {}), f"{where}.request")
    response = data.get("response") or {}
    problems += [f"{where}.response.{key}: not supported by pruefstand's stubs" for key in response
                 if key not in _RESPONSE_FIELDS]  # fmt: skip
    problems += _answer_problems(response, f"{where}.response")
    bodies = [key for key in ("body", "base64Body", "jsonBody") if key in response]
    if len(bodies) > 1:
        problems.append(f"{where}.response: only one of body, base64Body, jsonBody (got {', '.join(bodies)})")
    for name in response.get("transformers") or []:
        if name != TEMPLATE:
            problems.append(f"{where}.response.transformers: {name!r} is not supported (only {TEMPLATE!r})")
    if TEMPLATE in (response.get("transformers") or []):
        for key in ("body", "jsonBody"):
            if key in response:
                why = templating.check(_template_text(response[key]))
                if why:
                    problems.append(f"{where}.response.{key}: {why}")
    if problems:
        raise MappingError(problems)
    chosen = mapping_id or str(data.get("id") or data.get("uuid") or uuid.uuid4())
    result = {key: value for key, value in data.items() if key != "uuid"}
    result["id"] = chosen
    result.setdefault("request", {})
    result["response"] = {"status": 200, **response}
    return result


MAX_DELAY_MS = 60_000  # as the kit's own latency faults: a stub never holds a request longer than a minute


def _answer_problems(response: Mapping[str, Any], where: str) -> list[str]:
    """What WireMock's schema lets through but no answer can be: a status outside HTTP's, a delay that holds the
    request for hours."""
    problems = []
    status = response.get("status", 200)
    if not 100 <= int(status) <= 599:
        problems.append(f"{where}.status: {status} is not an HTTP status (100-599)")
    delay = response.get("fixedDelayMilliseconds", 0)
    if not 0 <= int(delay) <= MAX_DELAY_MS:
        problems.append(f"{where}.fixedDelayMilliseconds: {delay} is outside 0-{MAX_DELAY_MS}")
    return problems  # a base64Body that is not base64 is refused by WireMock's schema already


def _template_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Stub:
    """A mapping ready to match: its pattern, its place in the order, its scenario."""

    data: Mapping[str, Any]
    pattern: RequestPattern
    order: int  # later added: tried first among equal priorities

    @classmethod
    def of(cls, data: Mapping[str, Any], order: int) -> Stub:
        return cls(data, RequestPattern(data.get("request") or {}), order)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def priority(self) -> int:
        return int(self.data.get("priority") or DEFAULT_PRIORITY)

    @property
    def scenario(self) -> str | None:
        name = self.data.get("scenarioName")
        return str(name) if name else None

    @property
    def response(self) -> Mapping[str, Any]:
        return dict(self.data.get("response") or {})

    @property
    def templated(self) -> bool:
        return TEMPLATE in (self.response.get("transformers") or [])


def load_files(folder: Path) -> list[dict[str, Any]]:
    """Every mapping in the `*.json` files under `folder` (WireMock's `mappings/` layout), in file-name order."""
    found: list[dict[str, Any]] = []
    for path in sorted(folder.rglob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MappingError([f"{path}: {exc}"]) from exc
        for number, item in _mappings_in(content):
            found.append(normalized(item, f"{path}" + (f" mappings[{number}]" if number is not None else "")))
    return found


def _mappings_in(content: Any) -> Iterator[tuple[int | None, Any]]:
    if isinstance(content, Mapping) and "mappings" in content and "request" not in content:
        yield from enumerate(content["mappings"] or [])
    else:
        yield None, content
