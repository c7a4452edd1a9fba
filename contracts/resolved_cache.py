"""Resolved contracts kept on disk by content hash, so a new process does not parse, validate and resolve the same
YAML again (about half a second for the bundled contracts; every CLI call and every `serve` worker pays it).

The key is the SHA-256 of the contract file and of every file its `$ref`s reach (followed file by file), the
resolution mode and the versions of the libraries that parse and validate. A hit is a document that was validated
when it was stored. Folders too large to hash cheaply are not cached; an unwritable cache folder is no error. Entries
are JSON (never pickle): a document that does not survive a JSON round trip is not stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

MAX_FILES = 300
MAX_BYTES = 8 * 1024 * 1024


def cache_folder() -> Path | None:
    """`$PRUEFSTAND_CACHE_DIR`, else `$XDG_CACHE_HOME/pruefstand`, else `~/.cache/pruefstand`; `off` disables it."""
    chosen = os.environ.get("PRUEFSTAND_CACHE_DIR")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pruefstand"


_REF = re.compile(r"""\$ref["']?\s*:\s*["']?([^"'#\s,}]*)""")


def content_key(path: Path, resolve: str) -> str | None:
    """The hash of the contract at `path` and every file its references reach, or None when that is too much to
    hash cheaply (or a reference goes to a URL, which may change at any time)."""
    digest = hashlib.sha256()
    seen: set[Path] = set()
    pending = [path.resolve()]
    total = 0
    while pending:
        file = pending.pop()
        if file in seen:
            continue
        seen.add(file)
        if len(seen) > MAX_FILES:
            return None
        try:
            data = file.read_bytes()
        except OSError:
            return None  # the loader names the broken reference
        total += len(data)
        if total > MAX_BYTES:
            return None
        digest.update(str(file).encode() + b"\0" + data + b"\0")
        for target in _REF.findall(data.decode("utf-8", errors="replace")):
            if not target:
                continue  # a reference inside the same file
            if "://" in target:
                return None
            pending.append((file.parent / target).resolve())
    digest.update(f"{resolve}\0{_versions()}".encode())
    return digest.hexdigest()


def read(key: str) -> dict[str, Any] | None:
    folder = cache_folder()
    if folder is None:
        return None
    try:
        document = json.loads((folder / f"spec-{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def write(key: str, document: dict[str, Any]) -> None:
    folder = cache_folder()
    if folder is None:
        return
    try:
        text = json.dumps(document, ensure_ascii=False)
        if json.loads(text) != document:
            return
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, folder / f"spec-{key}.json")
    except (OSError, TypeError, ValueError):
        return


def _versions() -> str:
    names = ("prance", "openapi-spec-validator", "pyyaml", "ruamel.yaml")
    found = []
    for name in names:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=?")
    return ",".join(found)
