"""The JSON body validators every API of the mock uses (plugged into connexion's validator map).

Requests: parsed with the contracts' guarded parser (UTF-8, syntax, nesting limit), validated against the
operation's schema with errors that name the JSON path, dispatched on `x-pruefstand-dispatch` where the schema says so.
Responses: the mock's own answers are held to the same contract. Compiled validators are cached per schema object,
because connexion creates a validator object for every request and response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from connexion.exceptions import NonConformingResponseBody
from connexion.validators import JSONRequestBodyValidator, JSONResponseBodyValidator
from starlette.types import Scope

from pruefstand.contracts import DispatchingValidator, SchemaValidator, Violation, parse_json_body
from pruefstand.mock_server.kernel.errors import BadRequest

CompiledValidator = SchemaValidator | DispatchingValidator
_ABSENT = object()  # no body at all, as opposed to a JSON `null`


def _compiler() -> Callable[[Any], CompiledValidator]:
    compiled: dict[int, tuple[Any, CompiledValidator]] = {}

    def compile_schema(schema: Any) -> CompiledValidator:
        hit = compiled.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        validator: CompiledValidator = (
            DispatchingValidator(schema) if DispatchingValidator.applies_to(schema) else SchemaValidator(schema)
        )
        compiled[id(schema)] = (schema, validator)
        return validator

    return compile_schema


def guarded_json_validator(*, max_depth: int) -> type[JSONRequestBodyValidator]:
    compile_schema = _compiler()

    class GuardedJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
        async def _parse(self, stream: Any, scope: Scope) -> Any:  # noqa: ARG002 (the signature is the library's)
            raw = b"".join([chunk async for chunk in stream])
            if not raw.strip():
                return _ABSENT
            return parse_json_body(raw, max_depth=max_depth, refuse_nul=True)

        def _validate(self, body: Any) -> dict[str, Any] | None:
            if body is _ABSENT:
                if self._required:
                    raise BadRequest([Violation("$", "a JSON body is required")])
                return None  # an optional body that was not sent
            if body is None and not self._nullable:
                raise BadRequest([Violation("$", "a JSON body is required")])
            violations = compile_schema(self._schema).violations(body)
            if violations:
                raise BadRequest(violations)
            return None

    return GuardedJSONBodyValidator


def cached_json_response_validator() -> type[JSONResponseBodyValidator]:
    compile_schema = _compiler()

    class CachedJSONResponseValidator(JSONResponseBodyValidator):  # type: ignore[misc]
        def _parse(self, stream: Any) -> Any:
            raw = b"".join(stream)
            return json.loads(raw) if raw else None

        def _validate(self, body: Any) -> None:
            violations = compile_schema(self._schema).violations(body)
            if violations:
                raise NonConformingResponseBody(
                    detail="the mock's answer breaks its own contract: " + "; ".join(str(v) for v in violations)
                )

    return CachedJSONResponseValidator
