"""Variables in scenario files: `{{ name }}`, `{{ now() }}`, `{{ uuid() }}`, `{{ env.NAME }}`, `{{ run_id }}`.

Jinja2's sandbox renders every string of a step; an undefined name is an error, never an empty string. A string that
is one expression and nothing else (`'{{ record.data }}'`) keeps the expression's own type (an object, a number);
any other string renders to text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_ONE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)+)\}\}$", re.DOTALL)


class TemplateProblem(Exception):
    """A value that could not be rendered; the message says which and why."""


def base_context(env: Mapping[str, str], run_id: str, new_uuid: Callable[[], str] | None = None) -> dict[str, Any]:
    return {
        "env": dict(env),
        "run_id": run_id,
        "now": lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "uuid": new_uuid or (lambda: str(uuid.uuid4())),
    }


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside `value` (dicts, lists, scalars); other values stay as they are."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        whole = _ONE_EXPRESSION.match(value)
        try:
            if whole:
                native = _ENV.compile_expression(whole["expr"].strip(), undefined_to_none=False)(context)
                if isinstance(native, StrictUndefined):
                    str(native)  # raises: undefined names are errors
                return native
            return _ENV.from_string(value).render(context)
        except TemplateError as exc:
            raise TemplateProblem(f"{value!r}: {exc}") from exc
    if isinstance(value, dict):
        return {render(k, context): render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    return value
