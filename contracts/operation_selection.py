"""Which operations of a contract a run covers: include and exclude by operationId, path (a glob), method and tag.

Semantics (the same for `fuzz` and `replay`, documented in docs/CI.md): within one kind the values are alternatives
(`--include-tag a --include-tag b`: tagged a or b); the kinds given must all hold (`--include-tag a --include-method
GET`: GET operations tagged a); an operation matching any exclude is left out, whatever the includes say. Nothing
given: every operation.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class OperationRef:
    """What a selector looks at: one operation of a contract."""

    operation_id: str
    path: str
    method: str
    tags: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True, slots=True)
class OperationSelection:
    include_operation_id: tuple[str, ...] = ()
    include_path: tuple[str, ...] = ()
    include_method: tuple[str, ...] = ()
    include_tag: tuple[str, ...] = ()
    exclude_operation_id: tuple[str, ...] = ()
    exclude_path: tuple[str, ...] = ()
    exclude_method: tuple[str, ...] = ()
    exclude_tag: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("include_method", "exclude_method"):
            unknown = [m for m in getattr(self, name) if m.lower() not in HTTP_METHODS]
            if unknown:
                option = "--" + name.replace("_", "-")
                raise ValueError(f"{option}: {unknown[0]!r} is not an HTTP method (one of {', '.join(HTTP_METHODS)})")

    @property
    def is_everything(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def selects(self, op: OperationRef) -> bool:
        include = (
            _any(self.include_operation_id, lambda v: v == op.operation_id),
            _any(self.include_path, lambda v: fnmatch.fnmatchcase(op.path, v)),
            _any(self.include_method, lambda v: v.lower() == op.method.lower()),
            _any(self.include_tag, lambda v: v in op.tags),
        )
        excluded = (
            any(v == op.operation_id for v in self.exclude_operation_id)
            or any(fnmatch.fnmatchcase(op.path, v) for v in self.exclude_path)
            or any(v.lower() == op.method.lower() for v in self.exclude_method)
            or any(v in op.tags for v in self.exclude_tag)
        )
        return all(include) and not excluded

    def describe(self) -> str:
        """One line naming what was chosen (for `--dry-run` and the run's header)."""
        parts = []
        for f in fields(self):
            values = getattr(self, f.name)
            if values:
                parts.append(f"{f.name.replace('_', '-')} {', '.join(values)}")
        return "; ".join(parts) or "every operation"


def _any(values: tuple[str, ...], matches: Any) -> bool:
    return not values or any(matches(v) for v in values)


def operations_of(document: Mapping[str, Any]) -> Iterator[OperationRef]:
    """Every operation of an OpenAPI document, in document order."""
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, Mapping):
                yield OperationRef(
                    operation_id=str(operation.get("operationId", "")),
                    path=str(path),
                    method=method,
                    tags=tuple(str(t) for t in operation.get("tags") or ()),
                )


def unmatched(selection: OperationSelection, documents: Iterable[Mapping[str, Any]]) -> list[str]:
    """Include values that name nothing in any of the documents (a typo would otherwise select nothing, silently)."""
    ops = [op for document in documents for op in operations_of(document)]
    missing = []
    for value in selection.include_operation_id:
        if not any(op.operation_id == value for op in ops):
            missing.append(f"--include-operation-id {value}")
    for value in selection.include_path:
        if not any(fnmatch.fnmatchcase(op.path, value) for op in ops):
            missing.append(f"--include-path {value}")
    for value in selection.include_tag:
        if not any(value in op.tags for op in ops):
            missing.append(f"--include-tag {value}")
    return missing
