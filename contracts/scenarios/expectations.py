"""Compare what came with what a step expects; every mismatch says where, what was expected and what came."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jsonpath


def mismatches(expect: Mapping[str, Any], status: int, body: Any, headers: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    if "status" in expect and expect["status"] != status:
        found.append(f"status: expected {expect['status']}, got {status}")
    if "body" in expect and expect["body"] != body:
        found.append(f"body: expected {expect['body']!r}, got {body!r}")
    if "subset" in expect:
        found += _subset("$", expect["subset"], body)
    for path, wanted in expect.get("jsonpath", {}).items():
        found += _jsonpath(path, wanted, body)
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, wanted in expect.get("headers", {}).items():
        got = lowered.get(name.lower())
        if got != wanted:
            found.append(f"header {name}: expected {wanted!r}, got {got!r}")
    return found


def _subset(where: str, wanted: Any, got: Any) -> list[str]:
    if isinstance(wanted, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object with {sorted(wanted)}, got {got!r}"]
        problems: list[str] = []
        for key, value in wanted.items():
            if key not in got:
                problems.append(f"{where}.{key}: expected {value!r}, but it is missing")
            else:
                problems += _subset(f"{where}.{key}", value, got[key])
        return problems
    return [] if wanted == got else [f"{where}: expected {wanted!r}, got {got!r}"]


def _jsonpath(path: str, wanted: Any, body: Any) -> list[str]:
    try:
        values = jsonpath.findall(path, body)
    except jsonpath.JSONPathError as exc:
        return [f"{path}: not a JSONPath ({exc})"]
    if isinstance(wanted, dict) and "exists" in wanted:
        return (
            []
            if bool(values) == bool(wanted["exists"])
            else [f"{path}: expected {'a value' if wanted['exists'] else 'nothing'}, got {values!r}"]
        )
    if not values:
        return [f"{path}: expected {wanted!r}, but nothing is there"]
    value = values[0]
    if isinstance(wanted, dict) and "matches" in wanted:
        pattern = str(wanted["matches"])
        return [] if re.search(pattern, str(value)) else [f"{path}: expected to match {pattern!r}, got {value!r}"]
    if isinstance(wanted, dict) and "contains" in wanted:
        needle = str(wanted["contains"])
        return [] if needle in str(value) else [f"{path}: expected to contain {needle!r}, got {value!r}"]
    return [] if value == wanted else [f"{path}: expected {wanted!r}, got {value!r}"]
