"""Credentials never kept: what the journal, the proxy's journal and the console show of a body or a query string.

A credential is a field an OAuth or login exchange carries (RFC 6749: `client_secret`, `password`, `code`,
`refresh_token`, `assertion`; the answers' `access_token`, `refresh_token`, `id_token`; RFC 6750 §2.3: the
`access_token` query parameter) or one named like it (`token`, `secret`, `apiKey`). Its value becomes `(not kept)`,
in JSON (at any depth), in a form or query string, and, when a body was cut and no longer parses, in the text itself.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "(not kept)"
_SECRET_NAMES = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "client_assertion",
        "assertion",
        "password",
        "code_verifier",
        "token",
        "secret",
        "apikey",
        "api_key",
        "x-api-key",
    }
)
_FORM_ONLY = frozenset({"code"})  # RFC 6749 §4.1.3's authorization code; in JSON `code` is an error code
_NAMES = "|".join(sorted((re.escape(n) for n in _SECRET_NAMES), key=len, reverse=True))
_FORM_NAMES = "|".join(sorted((re.escape(n) for n in _SECRET_NAMES | _FORM_ONLY), key=len, reverse=True))
# where a credential could be: a JSON member of that name, or a form/query pair; anything else (`rollencodetyp` holds
# "code") is no reason to look closer
# (each name holds one of these; a word that only looks like one costs a parse, never a credential kept)
_MARKERS = ("token", "secret", "password", "assertion", "apikey", "api_key", "api-key", "code=", "code_verifier")
assert all(any(marker in name for marker in _MARKERS) for name in _SECRET_NAMES)
# a JSON member whose value is a string (closed or cut), a form/query pair
_JSON_MEMBER = re.compile(rf'("(?i:{_NAMES})"\s*:\s*")((?:[^"\\]|\\.)*)("?)')
_FORM_PAIR = re.compile(rf"(?<![^&?\s])((?i:{_FORM_NAMES})=)([^&\s]*)")


def secret_name(name: str) -> bool:
    return name.lower() in _SECRET_NAMES


def redacted_text(text: str) -> str:
    """A body as text with every credential's value replaced: parsed as JSON or as a form when it is one, else (a
    body that was cut) by pattern."""
    if not _may_hold_secret(text):  # the common case: nothing to look at closer
        return text
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            parsed = json.loads(stripped)
        except (ValueError, RecursionError):
            return _by_pattern(text)
        if _has_secret(parsed):
            return json.dumps(_redacted_json(parsed), ensure_ascii=False)
        return text
    if "=" in text and _FORM_PAIR.search(text):
        return redacted_query(text)
    return text


def redacted_query(query: str) -> str:
    """A query string (or form body) with every credential's value replaced; the other pairs unchanged."""
    if not _may_hold_secret(query) or not _FORM_PAIR.search(query):
        return query
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return _FORM_PAIR.sub(lambda m: m.group(1) + REDACTED, query)
    return urlencode([(k, REDACTED if k.lower() in _SECRET_NAMES | _FORM_ONLY else v) for k, v in pairs], safe="() ")


def _may_hold_secret(text: str) -> bool:
    """A quick look (plain substring tests, a few µs for a trigger): a credential's JSON member name or form key is
    there; only then the text is parsed."""
    lowered = text.lower()
    return any(marker in lowered for marker in _MARKERS)


def _by_pattern(text: str) -> str:
    text = _JSON_MEMBER.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    return _FORM_PAIR.sub(lambda m: m.group(1) + REDACTED, text)


def _has_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return any(secret_name(str(k)) or _has_secret(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def _redacted_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if secret_name(str(k)) and isinstance(v, str | int) else _redacted_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted_json(v) for v in value]
    return value
