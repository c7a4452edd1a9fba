"""Load an OpenAPI 2/3 contract once: parse, resolve every $ref (prance), validate, cache."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from pruefstand.contracts import resolved_cache
from pruefstand.contracts.errors import SpecLoadError

JSONDict = dict[str, Any]
Resolution = Literal["all", "external"]


@dataclass(frozen=True)
class Spec:
    """A resolved contract: the document with every $ref inlined, and where it came from."""

    path: Path
    document: JSONDict = field(repr=False)

    @property
    def openapi_version(self) -> str:
        return str(self.document.get("openapi") or self.document.get("swagger") or "")

    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", self.path.name))

    def operation(self, operation_id: str) -> JSONDict:
        """The operation object with this operationId, with its `method` and `path` added."""
        for path, item in self.document.get("paths", {}).items():
            for method, operation in item.items():
                if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                    return {"method": method, "path": path, **operation}
        raise KeyError(f"{self.path}: no operation with operationId {operation_id!r}")


def load_spec(path: str | Path, *, resolve: Resolution = "all") -> Spec:
    """Load, resolve and validate the contract at `path`; cached per file, modification time and mode.

    ``resolve="all"`` inlines every $ref (recursive schemas keep their internal $ref); ``"external"`` inlines only
    when the document refers to other files, so a large single-file contract is handed on as written.
    """
    resolved = Path(path).resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError as exc:
        raise SpecLoadError(str(path), "file", f"cannot be read: {exc.strerror or exc}") from exc
    return _load(resolved, mtime, resolve)


@functools.lru_cache(maxsize=64)
def _load(path: Path, _mtime: int, resolve: Resolution) -> Spec:
    key = resolved_cache.content_key(path, resolve)
    cached = resolved_cache.read(key) if key else None
    if cached is not None:
        return Spec(path=path, document=cached)
    spec = _parse_validate_resolve(path, resolve)
    if key:
        resolved_cache.write(key, spec.document)
    return spec


def _parse_validate_resolve(path: Path, resolve: Resolution) -> Spec:
    # imported here: a contract found in the resolved cache needs neither parser nor validator
    import prance
    from prance.util.resolver import keep_ref_on_recursion

    raw = _read(path)
    _validate(path, raw)
    if resolve == "external" and not _has_external_refs(raw):
        return Spec(path=path, document=raw)
    try:
        parser = prance.ResolvingParser(
            str(path),
            backend="openapi-spec-validator",
            strict=False,
            lazy=True,
            recursion_limit_handler=keep_ref_on_recursion,
        )
        parser.parse()
    except Exception as exc:  # prance raises several unrelated types; all mean "cannot resolve"
        raise SpecLoadError(str(path), "$ref", _first_line(exc)) from exc
    document = parser.specification
    if not isinstance(document, dict):
        raise SpecLoadError(str(path), "document", "resolved to something other than a mapping")
    return Spec(path=path, document=document)


def _read(path: Path) -> JSONDict:
    from openapi_spec_validator.readers import read_from_filename

    try:
        document, _ = read_from_filename(str(path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        raise SpecLoadError(str(path), place, str(exc.problem or exc)) from exc
    except (OSError, ValueError) as exc:
        raise SpecLoadError(str(path), "document", _first_line(exc)) from exc
    if not isinstance(document, dict) or not ({"openapi", "swagger"} & document.keys()):
        raise SpecLoadError(str(path), "document", "is not an OpenAPI 2 or 3 document (no 'openapi' or 'swagger' key)")
    return dict(document)


def _validate(path: Path, document: JSONDict) -> None:
    from jsonschema.exceptions import best_match
    from openapi_spec_validator import validate as validate_openapi

    try:
        validate_openapi(document, base_uri=path.as_uri())
    except Exception as exc:  # openapi-spec-validator's errors carry the JSON path of the problem
        context = getattr(exc, "context", None)
        detail = best_match(context) if context else exc
        parts = list(getattr(detail, "absolute_path", ()) or getattr(exc, "absolute_path", ()))
        place = "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts) if parts else "document"
        message = str(getattr(detail, "message", "") or _first_line(exc)).splitlines()[0]
        raise SpecLoadError(str(path), place, _short(message)) from exc


def _has_external_refs(document: JSONDict) -> bool:
    text = json.dumps(document)
    return '"$ref": "' in text.replace('"$ref": "#', "")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _short(message: str) -> str:
    """A validator's message without the document it quotes (a broken $ref's message holds the whole spec)."""
    message = re.sub(r" (does not exist) within \{.*", r" \1 in the document", message, flags=re.DOTALL)
    return message if len(message) <= 300 else message[:297] + "..."
