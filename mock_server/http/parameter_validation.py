"""Query, path and header parameters checked as connexion does, with messages that name the parameter and say what
was expected in one line (connexion's default repeats the whole schema and names nothing)."""

from __future__ import annotations

import copy
from typing import Any

from connexion.utils import is_null, is_nullable
from connexion.validators import ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from pruefstand.contracts.message_validation import expected_in_words

_FORMATS = Draft4Validator.FORMAT_CHECKER


class NamedParameterValidator(ParameterValidator):  # type: ignore[misc]
    @staticmethod
    def validate_parameter(
        parameter_type: str,
        value: Any,
        param: dict[str, Any],
        param_name: Any = None,  # noqa: ARG004 (the signature is the library's)
    ) -> str | None:
        if is_nullable(param) and is_null(value):
            return None
        if value is None:
            return f"{parameter_type} parameter {param['name']}: is required" if param.get("required") else None
        schema = copy.deepcopy(param.get("schema", param))
        try:
            Draft4Validator(schema, format_checker=_FORMATS).validate(value)
        except ValidationError as exc:
            message = expected_in_words(exc) or exc.message
            message = message if len(message) <= 160 else message[:157] + "..."
            return f"{parameter_type} parameter {param['name']}: {message}"
        return None
