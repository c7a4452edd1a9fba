"""Which sandbox (tenant) a request belongs to."""

from __future__ import annotations

import re

from pruefstand.mock_server.kernel.errors import BadRequest

SANDBOX_HEADER = "X-Pruefstand-Sandbox"
DEFAULT_SANDBOX = "default"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def sandbox_name(header_value: str | None) -> str:
    """The sandbox named by the header, or the default one when there is no header; a malformed or empty name is
    refused (an empty header is a script's unset variable, not a wish for the default sandbox)."""
    if header_value is None:
        return DEFAULT_SANDBOX
    if not _NAME.fullmatch(header_value):
        from pruefstand.contracts import Violation  # only for a refusal: light commands load no validator

        raise BadRequest(
            [
                Violation(
                    f"header {SANDBOX_HEADER}",
                    f"{header_value!r} is not a sandbox name ([A-Za-z0-9._-], 1-64)",
                )
            ]
        )
    return header_value
