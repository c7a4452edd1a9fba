"""Validate messages against contract schemas, with errors that name the JSON path and the rule broken."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson
from jsonschema.exceptions import ValidationError, best_match
from openapi_schema_validator import OAS30Validator, oas30_format_checker

DISPATCH_KEY = "x-pruefstand-dispatch"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where (a JSON path such as `$.zusatzdaten.prozessId`) and what was expected."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(parts: Iterable[str | int]) -> str:
    """`$.a.b[0]` from ("a", "b", 0); keys that are not identifiers are quoted: `$["x-y"]`."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _violation(error: ValidationError) -> Violation:
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        extra = _unexpected(error)
        if extra:  # name the attribute itself, as every other refusal names its place
            others = f" (also unexpected: {', '.join(extra[1:])})" if extra[1:] else ""
            return Violation(json_path([*error.absolute_path, extra[0]]), f"is not in the contract here{others}")
    return Violation(json_path(error.absolute_path), _describe(error))


def _unexpected(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    declared = set(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return sorted(k for k in error.instance if k not in declared and not any(p.search(k) for p in patterns))


def expected_in_words(error: ValidationError) -> str | None:
    """For a `pattern` the schema explains with `x-expected` (a long pattern, e.g. a list of attribute names): the
    value and what was expected, in words instead of the regular expression."""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator != "pattern" or not schema.get("x-expected"):
        return None
    shown = repr(error.instance)
    return f"{shown if len(shown) <= 80 else shown[:77] + '...'} is not {schema['x-expected']}"


def _describe(error: ValidationError) -> str:
    in_words = expected_in_words(error)
    if in_words is not None:
        return in_words
    if error.validator == "required":
        return f"{error.message} (required by the contract)"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {list(error.validator_value)}"
    if error.validator == "additionalProperties":
        return f"{error.message} (additional properties are not allowed here)"
    return str(error.message)


# Keywords where OpenAPI 3.0 and JSON Schema draft 4 disagree, or formats draft 4 does not know: a schema using one
# is validated by the OpenAPI validator alone.
_OAS_ONLY_KEYWORDS = frozenset({"discriminator"})
_OAS_ONLY_FORMATS = frozenset({"int32", "int64", "float", "double", "byte", "binary", "password"})


def _draft4_agrees(schema: Any) -> bool:
    """Whether a draft 4 validator accepts exactly what the OpenAPI 3.0 validator accepts for this schema.

    `nullable` only widens OpenAPI's answer, and a draft 4 refusal is always re-checked by the OpenAPI validator, so
    it is harmless. A cyclic schema (connexion's resolved recursive contracts) gets no fast path.
    """
    agreed: set[int] = set()

    def walk(node: Any, ancestors: frozenset[int]) -> bool:
        if isinstance(node, Mapping):
            if id(node) in ancestors:
                return False
            if id(node) in agreed:
                return True
            if _OAS_ONLY_KEYWORDS & node.keys() or node.get("format") in _OAS_ONLY_FORMATS:
                return False
            inner = ancestors | {id(node)}
            if not all(walk(value, inner) for value in node.values()):
                return False
            agreed.add(id(node))
            return True
        if isinstance(node, list):
            return all(walk(item, ancestors) for item in node)
        return True

    try:
        return walk(schema, frozenset())
    except RecursionError:
        return False


_COMPILED: dict[bytes, tuple[Any, Any]] = {}


def _compiled(schema: Mapping[str, Any]) -> tuple[Any, Any]:
    """The OpenAPI validator and the fast one for a schema, built once per process for each distinct schema (by its
    content: every app build, replay run and test reads the same contracts again, as new objects). A schema that
    cannot be serialised (connexion's cyclic resolved recursive contracts) is built each time."""
    try:
        key = hashlib.sha256(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)).digest()
    except (TypeError, RecursionError):  # orjson.JSONEncodeError is a TypeError
        key = None
    found = _COMPILED.get(key) if key is not None else None
    if found is None:
        found = (OAS30Validator(dict(schema), format_checker=oas30_format_checker), _fast_validator(schema))
        if key is not None:
            _COMPILED[key] = found
    return found


def _fast_validator(schema: Mapping[str, Any]) -> Any:
    if not _draft4_agrees(schema):
        return None
    try:
        return jsonschema_rs.Draft4Validator(dict(schema), validate_formats=True)
    except Exception:  # a schema the Rust validator cannot compile is simply validated the slow way
        return None


class SchemaValidator:
    """Validates instances against one (resolved) OpenAPI 3.0 schema object.

    Conforming instances are confirmed by jsonschema-rs (about a hundred times faster); anything it refuses is
    validated again by openapi-schema-validator, whose verdict and messages count.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._schema = schema
        self._validator, self._fast = _compiled(schema)

    def violations(self, instance: Any) -> list[Violation]:
        """The most relevant violation first; empty if the instance conforms."""
        if self._fast is not None and self._fast.is_valid(instance):
            return []
        errors = list(self._validator.iter_errors(instance))
        if not errors:
            return []
        first = best_match(errors)
        rest = [e for e in errors if e is not first]
        found = [_violation(first), *(_violation(e) for e in rest)]
        return list(dict.fromkeys(found))  # the same violation reached along two schema paths is named once


class DispatchingValidator:
    """Validates against a schema whose `oneOf` branches are selected by the value at a path.

    The schema carries ``x-pruefstand-dispatch: {path: a.b.c, envelope: <schema>}``; the envelope is checked first;
    each ``oneOf`` branch declares its value as the single ``enum`` entry of the property at that path. A new branch
    is new data.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        dispatch = schema.get(DISPATCH_KEY)
        if not isinstance(dispatch, Mapping):
            raise ValueError(f"schema has no {DISPATCH_KEY} block")
        path = dispatch.get("path")
        if not isinstance(path, str) or not path:
            raise ValueError(f"schema has no {DISPATCH_KEY}.path")
        self.path: tuple[str, ...] = tuple(path.split("."))
        self._envelope = SchemaValidator(dispatch.get("envelope") or {})
        self.branches: dict[str, Mapping[str, Any]] = {}
        for branch in schema.get("oneOf", []):
            value = _dispatch_value(branch, self.path)
            if value in self.branches:
                raise ValueError(f"two branches dispatch on {value!r}")
            self.branches[value] = branch
        self._validators = {value: SchemaValidator(branch) for value, branch in self.branches.items()}

    @staticmethod
    def applies_to(schema: Mapping[str, Any]) -> bool:
        return isinstance(schema, Mapping) and DISPATCH_KEY in schema

    def select(self, instance: Any) -> tuple[str | None, list[Violation]]:
        """The dispatch value and the envelope's violations (or an unknown-value violation)."""
        envelope = self._envelope.violations(instance)
        if envelope:
            return None, envelope
        value = _value_at(instance, self.path)
        if value not in self.branches:
            expected = ", ".join(sorted(self.branches))
            return None, [Violation(json_path(self.path), f"unknown value {value!r}; expected one of: {expected}")]
        return str(value), []

    def violations(self, instance: Any) -> list[Violation]:
        value, problems = self.select(instance)
        if value is None:
            return problems
        return self._validators[value].violations(instance)

    def branch(self, value: str) -> Mapping[str, Any]:
        return self.branches[value]


def _value_at(instance: Any, path: Sequence[str]) -> Any:
    node = instance
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _dispatch_value(branch: Mapping[str, Any], path: Sequence[str]) -> str:
    node: Any = branch
    for key in path:
        node = node.get("properties", {}).get(key, {}) if isinstance(node, Mapping) else {}
    enum = node.get("enum") if isinstance(node, Mapping) else None
    if not isinstance(enum, list) or len(enum) != 1:
        title = branch.get("title", "a oneOf branch")
        raise ValueError(f"{title}: {'.'.join(path)} must declare exactly one enum value to dispatch on")
    return str(enum[0])
