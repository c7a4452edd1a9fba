"""The app factory: the shared parts built once, then every registered flow mounted (kernel/registry.py) and served
through the HTTP stack (http/stack.py); the admin API's own operations beside the flows' admin operations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connexion import AsyncApp

from pruefstand.contracts import Spec, load_spec
from pruefstand.contracts.spec_catalog import specs_root
from pruefstand.mock_server.admin.document import admin_spec
from pruefstand.mock_server.admin.handlers import AdminHandlers
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.delivery import DeliveryWorker, RetryPolicy, TargetPolicy
from pruefstand.mock_server.flows.mounting import ConnexionApi, Flow, MountContext, Task
from pruefstand.mock_server.http.faults import FaultRules
from pruefstand.mock_server.http.journal import Journal
from pruefstand.mock_server.http.stack import MockApp
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.flow_info import ApiInfo, FlowInfo
from pruefstand.mock_server.kernel.id_source import IdSource
from pruefstand.mock_server.kernel.settings import Settings
from pruefstand.mock_server.store import Store, open_store
from pruefstand.mock_server.stub_contract import StubContracts
from pruefstand.mock_server.stubs.mappings import load_files
from pruefstand.mock_server.stubs.service import CACHED_KINDS, Stubs
from pruefstand.mock_server.wiring import serve

logger = logging.getLogger(__name__)

ADMIN_BASE = registry.ADMIN_API.base_path


@dataclass(frozen=True)
class Services:
    """What the app factory built; tests reach the state through it."""

    store: Store
    clock: Clock
    worker: DeliveryWorker
    flows: Mapping[str, Flow]
    stubs: Stubs

    def of(self, flow: str, name: str) -> Any:
        """A service a flow built (`services.of("tmf622", "orders")`)."""
        return self.flows[flow].services[name]


def _clock_source(settings: Settings) -> dict[str, Callable[[], float]]:
    """A fixed instant for every sandbox's clock when `clock_start` is set (it moves only through the admin API)."""
    if not settings.clock_start:
        return {}
    start = datetime.fromisoformat(settings.clock_start.replace("Z", "+00:00")).timestamp()
    return {"real": lambda: start}


def _spec_of(api: ApiInfo) -> Spec:
    return load_spec(api.spec_path(specs_root()), resolve=api.resolve)


def mount_flows(ctx: Callable[[FlowInfo], MountContext], infos: Sequence[FlowInfo]) -> list[Flow]:
    """Each registered flow's `mount`, imported now (discovery imported only its FlowInfo)."""
    mounted = []
    for info in infos:
        module, _, function = info.mount.partition(":")
        mount = getattr(__import__(module, fromlist=[function]), function)
        mounted.append(mount(ctx(info)))
    return mounted


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    flows: Sequence[FlowInfo] | None = None,
) -> AsyncApp:
    """Build the mock. `store`/`clock` default to SQLite at `settings.db` and the real clock, `flows` to all."""
    owns_store = store is None
    store = store if store is not None else open_store(settings.db)
    clock = clock if clock is not None else Clock(store, **_clock_source(settings))
    infos = registry.flows() if flows is None else tuple(flows)
    targets = TargetPolicy.from_patterns(settings.allow_hosts())
    policy = RetryPolicy(
        base=settings.delivery_backoff_base_ms / 1000,
        cap=settings.delivery_backoff_cap_ms / 1000,
        max_attempts=settings.delivery_max_attempts,
    )
    worker = DeliveryWorker(store.outbox, policy, targets=targets)
    store.on_publish(worker.wake)
    admin = admin_spec(infos)
    ids = IdSource(settings.id_seed)
    mounted = mount_flows(
        lambda info: MountContext(info, store, clock, ids, targets, settings, _spec_of, specs_root(), admin), infos
    )
    _apply_declarations(store, mounted)
    store.declare_cached(CACHED_KINDS)  # stubs: read by every request of a sandbox, written by the admin API
    journal = Journal(store, settings.journal_size)
    faults = FaultRules(store)
    admin_handlers = AdminHandlers(
        store,
        clock,
        settings.with_admin_token().admin_token,
        journal=journal,
        faults=faults,
        clock_moved=lambda sandbox: _clock_moved(mounted, sandbox),
    )
    tasks = [worker.run_forever, journal.run_forever, *(task for flow in mounted for task in flow.tasks)]
    closing = (lambda: _close(store, settings)) if owns_store else None  # a store handed in belongs to the caller
    app = MockApp(__name__, lifespan=_lifespan(tasks, closing))
    stubs = Stubs(
        store, load_files(Path(settings.mappings)) if settings.mappings else (), stub_contracts(settings, mounted)
    )
    flows_by_name = {flow.name: flow for flow in mounted}
    app.services = Services(store=store, clock=clock, worker=worker, flows=flows_by_name, stubs=stubs)
    serve(app, settings, mounted, admin, admin_handlers, journal, faults, store, _spec_of, stubs)
    return app


def stub_contracts(settings: Settings, mounted: Sequence[Flow]) -> StubContracts:
    """The contracts a stub's answer is held to: every API served through connexion, and partners' contracts."""
    apis = [
        (api.info.base_path, _spec_of(api.info))
        for flow in mounted
        for api in flow.apis
        if isinstance(api, ConnexionApi)
    ]
    apis += [(extra.base_path, load_spec(extra.spec, resolve="external")) for extra in settings.extra_apis]
    return StubContracts(apis)


def _lifespan(tasks: Sequence[Task], closing: Callable[[], None] | None) -> Callable[[Any], Any]:
    """The background tasks (delivery, journal, the flows' own) run while the app serves; stopped in order after."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = asyncio.Event()
        running: list[asyncio.Task[None]] = [asyncio.create_task(task(stop)) for task in tasks]
        yield
        stop.set()
        for task in running:
            await task
        if closing is not None:
            closing()

    return lifespan


def _close(store: Store, settings: Settings) -> None:
    store.close()
    logger.warning("pruefstand stopped cleanly; state kept in %s", settings.db)


def _clock_moved(mounted: Sequence[Flow], sandbox: str) -> None:
    for flow in mounted:
        if flow.on_clock_moved is not None:
            flow.on_clock_moved(sandbox)


def _apply_declarations(store: Store, mounted: Sequence[Flow]) -> None:
    """Indexes, cross-sandbox kinds and cached kinds, declared by the flows at mount, applied once; then each flow's
    start-up work (seed files), which may write."""
    for flow in mounted:
        if flow.indexes:
            store.declare_indexes(list(flow.indexes))
        if flow.across:
            store.declare_across(flow.across)
        if flow.cached:
            store.declare_cached(flow.cached)
    for flow in mounted:
        if flow.start is not None:
            flow.start()
