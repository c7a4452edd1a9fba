"""Cassettes of failing exchanges in HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the format browsers,
Schemathesis (`--report har`) and HAR-to-curl converters read; and re-sending them (`pruefstand replay failing.har`).

Credential headers are written as `[redacted]`; a re-send leaves them out and lets the run's own authentication
(or a header given) supply fresh ones.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import harfile
import httpx

from pruefstand.contracts.errors import ContractError
from pruefstand.contracts.fuzz_records import Exchange, body_text
from pruefstand.contracts.secret_mask import MASK

HOP_BY_HOP = frozenset({"host", "content-length", "connection", "transfer-encoding", "accept-encoding"})


def write_har(path: Path, exchanges: Iterable[Exchange]) -> None:
    """The exchanges as a HAR 1.2 file (written with harfile, the HAR writer Schemathesis uses)."""
    with harfile.open(path, creator=harfile.Creator(name="pruefstand", version=version("pruefstand"))) as archive:
        for e in exchanges:
            milliseconds = round(e.elapsed * 1000, 3)
            archive.add_entry(
                startedDateTime=datetime.fromtimestamp(e.started, UTC),
                time=milliseconds,
                request=_request(e),
                response=_response(e),
                timings=harfile.Timings(send=0, wait=milliseconds, receive=0),
                comment=f"{e.operation}: "
                + (f"failed {', '.join(e.failed_checks)}" if e.failed_checks else "a step before"),
            )


def _records(headers: Iterable[tuple[str, str]]) -> list[harfile.Record]:
    return [harfile.Record(name=name, value=value) for name, value in headers]


def _mime(headers: Iterable[tuple[str, str]]) -> str:
    return next((v for k, v in headers if k.lower() == "content-type"), "")


def _request(e: Exchange) -> harfile.Request:
    post = None
    if e.request_body is not None:
        text, encoding = body_text(e.request_body)
        # HAR 1.2's postData has no `encoding`: a body that is not UTF-8 is base64, said in its comment
        post = harfile.PostData(mimeType=_mime(e.request_headers), text=text, comment=encoding)
    return harfile.Request(
        method=e.method,
        url=e.url,
        httpVersion="HTTP/1.1",
        headers=_records(e.request_headers),
        queryString=_records(parse_qsl(urlsplit(e.url).query, keep_blank_values=True)),
        postData=post,
        bodySize=len(e.request_body) if e.request_body is not None else 0,
    )


def _response(e: Exchange) -> harfile.Response:
    text, encoding = body_text(e.response_body)
    return harfile.Response(
        status=e.status if e.status is not None else 0,
        statusText=httpx.codes.get_reason_phrase(e.status) if e.status else "",
        httpVersion="HTTP/1.1",
        headers=_records(e.response_headers),
        content=harfile.Content(
            size=len(e.response_body), mimeType=_mime(e.response_headers), text=text, encoding=encoding
        ),
        bodySize=len(e.response_body),
    )


@dataclass(frozen=True, slots=True)
class Recorded:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    status: int
    comment: str


def load_har(path: Path) -> list[Recorded]:
    """The entries of a HAR file; anything that is not one is one error naming the file and the place."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["log"]["entries"]
        return [_recorded(entry) for entry in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ContractError(f"{path}: not a HAR 1.2 file ({type(exc).__name__}: {exc})") from exc


def _recorded(entry: Mapping[str, Any]) -> Recorded:
    request = entry["request"]
    post = request.get("postData")
    body: bytes | None = None
    if post is not None:
        text = str(post.get("text", ""))
        base64_coded = "base64" in (post.get("encoding"), post.get("comment"))
        body = base64.b64decode(text) if base64_coded else text.encode("utf-8")
    return Recorded(
        method=str(request["method"]),
        url=str(request["url"]),
        headers=tuple((str(h["name"]), str(h["value"])) for h in request.get("headers", [])),
        body=body,
        status=int(entry["response"]["status"]),
        comment=str(entry.get("comment", "")),
    )


@dataclass(frozen=True, slots=True)
class Resent:
    recorded: Recorded
    url: str
    status: int | None
    error: str = ""

    @property
    def reproduced(self) -> bool:
        """The system answers as it did when the cassette was recorded."""
        return self.status == self.recorded.status


def resend(recorded: Iterable[Recorded], client: httpx.Client, origin: str | None = None) -> Iterator[Resent]:
    """Send each recorded request again, in order: to its own URL, or with scheme, host and port from `origin`.
    Masked headers and hop-by-hop headers are left out; the client's own headers and auth fill in."""
    for entry in recorded:
        url = entry.url
        if origin:
            target, recorded_url = urlsplit(origin), urlsplit(entry.url)
            url = urlunsplit((target.scheme, target.netloc, recorded_url.path, recorded_url.query, ""))
        headers = [(k, v) for k, v in entry.headers if v != MASK and k.lower() not in HOP_BY_HOP]
        # each on a connection of its own, as a curl loop sends them: a server that closed the connection after the
        # failure being reproduced (uvicorn does after an unhandled error) must not turn the next one into a reset
        headers.append(("Connection", "close"))
        try:
            response = client.request(entry.method, url, headers=headers, content=entry.body)
        except httpx.HTTPError as exc:
            yield Resent(entry, url, None, f"{type(exc).__name__}: {exc}")
            continue
        yield Resent(entry, url, response.status_code)
