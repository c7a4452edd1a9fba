"""What a flow's `mount(ctx) -> Flow` receives and returns: the one contract between a flow and the app factory.

The app factory (app.py) builds the context once, calls every registered flow's `mount`, and serves what comes back:
the APIs (through connexion, or as own routes), the admin operations, the background tasks, the indexes. A flow
never reaches into the app, the HTTP layer or another flow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pruefstand.contracts import Spec
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.kernel.error_shapes import ErrorShape
from pruefstand.mock_server.kernel.flow_info import ApiInfo, FlowInfo
from pruefstand.mock_server.kernel.id_source import IdSource
from pruefstand.mock_server.kernel.settings import Settings
from pruefstand.mock_server.store import FlowStore, UnitOfWork
from pruefstand.mock_server.store.indexing import Index

# connexion's bearer check: (token, request) -> token info, or raises Unauthenticated naming the reason.
BearerCheck = Callable[[str, Any], Mapping[str, Any]]
Task = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
# a fast path's answer as sent: (unit of work, sandbox, stored answer, request headers with lower-case names) -> the
# body and the headers besides content-type and content-length
Presenter = Callable[[UnitOfWork, str, Any, Mapping[str, str]], tuple[Any, list[tuple[bytes, bytes]]]]


@dataclass(frozen=True)
class MountContext:
    """What every flow gets: the store, the clock, identifiers, where it may send, the settings and its spec files."""

    info: FlowInfo
    store: FlowStore
    clock: Clock
    ids: IdSource
    targets: TargetPolicy
    settings: Settings
    specs: Callable[[ApiInfo], Spec]  # an API's contract, loaded once (cached by content)
    specs_root: Path  # the kit's specs/ folder (an ApiInfo's relative `spec` is below it)
    admin: Spec  # the admin API's contract as served (its schemas, e.g. to validate a seed file)

    def section(self, kind: type[Any]) -> Any:
        """The flow's own settings section."""
        return self.settings.section(self.info.name, kind)

    def spec(self, api_name: str) -> Spec:
        return self.specs(self.info.api(api_name))


@dataclass(frozen=True)
class ConnexionApi:
    """An API served by connexion from its contract: operations bound by operationId, validated both ways."""

    info: ApiInfo
    operations: Mapping[str, Callable[..., Any]]
    error_shape: ErrorShape
    bearer: BearerCheck | None = None
    # False where the contract cannot list every query parameter a client may send (RFC 6749 §3.2, TMF630 filters).
    strict_validation: bool = True
    # Paths below the base path whose errors take another shape (the OAuth token endpoint: RFC 6749 §5.2).
    error_shapes: Mapping[str, ErrorShape] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutedApi:
    """An API served by the flow's own Starlette routes (a contract connexion cannot inline, e.g. TMF622 v5)."""

    info: ApiInfo
    routes: Sequence[Any]  # starlette.routing.Route
    contract: Mapping[str, Any]  # the contract as served (for the Allow header of a 405)
    error_shape: ErrorShape


@dataclass(frozen=True)
class AdminPart:
    """The flow's admin operations, bound by operationId; their paths are in the flow's `admin_spec` fragment."""

    operations: Mapping[str, Callable[..., Any]]


@dataclass(frozen=True)
class FastPath:
    """A creating POST answered before connexion's plumbing when the request is plainly acceptable (the MaCo
    trigger, TMF622's productOrder, Strom-Quittung's create): the HTTP layer reads, checks and journals it; the flow
    prepares outside the writer and applies inside a commit; `present` (in the same transaction) shapes the stored
    answer for the request and adds headers (a Location); `declined` request headers and, unless `takes_query`, a
    query send a request the normal way. `verify` checks the bearer token of an operation that takes one and gives
    its sandbox."""

    path: str
    body_violations: Callable[[Any], list[Any]]
    answer_violations: Callable[[Any], list[Any]]
    prepare: Callable[[str, Mapping[str, Any]], Any]
    apply: Callable[[UnitOfWork, Any], Any]
    verify: BearerCheck | None = None
    present: Presenter | None = None
    declined: frozenset[str] = frozenset()
    takes_query: bool = True
    status: int = 201  # of the answer (Strom-Quittung's create answers 200)


@dataclass(frozen=True)
class FastRead:
    """A read by id answered before connexion's plumbing in the plain case (a GET of `<prefix><id>`): `read`
    gets the sandbox, the id after `prefix` and the request's headers (lower-case names) and gives the answer's JSON
    body, or None to leave the request to the normal path (which then answers it, e.g. a 404). A request with any
    of the `declined` headers (lower-case names) goes the normal way."""

    prefix: str
    read: Callable[[str, str, Mapping[str, str]], bytes | None]
    declined: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Flow:
    """A mounted flow: what it serves, what it adds to the admin API, what runs beside the requests."""

    name: str
    apis: Sequence[ConnexionApi | RoutedApi]
    admin: AdminPart | None = None
    tasks: Sequence[Task] = ()
    # Called after an admin clock change of a sandbox: what fell due on the way happens now, not at the next poll.
    on_clock_moved: Callable[[str], object] | None = None
    indexes: Sequence[Index] = ()
    across: Sequence[str] = ()  # kinds found across sandboxes (FlowStore.sandboxes_with)
    cached: Sequence[str] = ()  # kinds the store keeps in memory
    fast_path: FastPath | None = None
    fast_reads: Sequence[FastRead] = ()
    # Runs once the store's indexes are applied (seed files, start-up checks); may write.
    start: Callable[[], object] | None = None
    services: Mapping[str, Any] = field(default_factory=dict)  # the flow's services, for tests and benchmarks
