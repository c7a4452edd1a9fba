"""Turn the bytes of a message into a JSON value, refusing what no contract can describe."""

from __future__ import annotations

import json
import math
from typing import Any

from contracts.errors import MalformedMessage

DEFAULT_MAX_DEPTH = 64


def parse_json_body(raw: bytes, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode UTF-8 and parse JSON; raise MalformedMessage naming what is wrong and where."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"body is not valid UTF-8: invalid byte at offset {exc.start}") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise MalformedMessage(f"body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    except RecursionError as exc:
        raise MalformedMessage(f"body is nested deeper than {max_depth} levels") from exc
    # A body with no more brackets than the limit cannot nest deeper: skip the walk (the common case).
    if raw.count(b"[") + raw.count(b"{") > max_depth and nesting_depth(value, limit=max_depth) > max_depth:
        raise MalformedMessage(f"body is nested deeper than {max_depth} levels")
    return value


def _refuse_constant(name: str) -> Any:
    raise MalformedMessage(f"body is not valid JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedMessage(f"body is not valid JSON: number {text[:40]} is out of range")
    return value


def nesting_depth(value: Any, *, limit: int) -> int:
    """Depth of nested arrays/objects (a scalar is 0); stops counting once past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return deepest
