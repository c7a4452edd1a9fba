"""The JSON body validator every API of the mock uses (plugged into connexion's validator map).

It parses with the contracts' guarded parser (UTF-8, syntax, nesting limit), validates against the operation's
schema with errors that name the JSON path, and dispatches on `x-pruefstand-dispatch` where the schema says so.
Compiled validators are cached per schema: connexion creates a validator object for every request.
"""

from __future__ import annotations

from typing import Any

from connexion.validators import JSONRequestBodyValidator
from starlette.types import Scope

from contracts import DispatchingValidator, SchemaValidator, Violation, parse_json_body
from mock_server.errors import BadRequest

CompiledValidator = SchemaValidator | DispatchingValidator


def guarded_json_validator(*, max_depth: int) -> type[JSONRequestBodyValidator]:
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

    class GuardedJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
        async def _parse(self, stream: Any, scope: Scope) -> Any:
            raw = b"".join([chunk async for chunk in stream])
            if not raw.strip():
                return None
            return parse_json_body(raw, max_depth=max_depth)

        def _validate(self, body: Any) -> dict[str, Any] | None:
            if body is None and not self._nullable:
                raise BadRequest([Violation("$", "a JSON body is required")])
            violations = compile_schema(self._schema).violations(body)
            if violations:
                raise BadRequest(violations)
            return None

    return GuardedJSONBodyValidator
