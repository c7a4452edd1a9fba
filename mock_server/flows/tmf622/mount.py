"""Mounts the TMF622 flow: v4 (plain and FIT profile) through connexion, v5 on its own routes, the hub, the
seller's automatic steps as a background task, and its admin operations."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from pruefstand.mock_server.flows.mounting import AdminPart, ConnexionApi, Flow, MountContext, RoutedApi
from pruefstand.mock_server.flows.tmf622.admin import Tmf622Admin
from pruefstand.mock_server.flows.tmf622.documents import INDEXES, PLAN_KIND
from pruefstand.mock_server.flows.tmf622.fast_paths import order_creation, order_reader
from pruefstand.mock_server.flows.tmf622.handlers import OrderHandlers
from pruefstand.mock_server.flows.tmf622.plan_store import sandboxes_with_plans
from pruefstand.mock_server.flows.tmf622.profile import DEFAULT_PROFILE, load_profiles
from pruefstand.mock_server.flows.tmf622.seed_file import load_seed_file
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.flows.tmf622.settings import Tmf622Settings
from pruefstand.mock_server.flows.tmf622.v5_routes import V5Routes
from pruefstand.mock_server.kernel.error_shapes import tmf_error
from pruefstand.mock_server.store import FlowStore

logger = logging.getLogger(__name__)


def mount(ctx: MountContext) -> Flow:
    section: Tmf622Settings = ctx.section(Tmf622Settings)
    v4_spec = ctx.spec("tmf622")
    orders = OrderService(
        ctx.store,
        ctx.clock,
        load_profiles(Path(section.profile) if section.profile else DEFAULT_PROFILE),
        ctx.spec("tmf622-listener"),
        step_delay=section.step_delay,
        timezone=section.timezone,
        buyer_progress=section.buyer_progress,
        append_listener_path=section.callback == "listener",
        targets=ctx.targets,
        ids=ctx.ids,
        default_profile=section.default_profile,
    )
    v4_base = ctx.info.api("tmf622").base_path
    v5_info = ctx.info.api("tmf622-v5")
    v5 = V5Routes(orders, v5_info.spec_path(ctx.specs_root), max_depth=ctx.settings.max_depth)
    inventory_schema = ctx.admin.document["components"]["schemas"]["Tmf622Inventory"]
    seed = Path(section.seed) if section.seed else None
    return Flow(
        name=ctx.info.name,
        apis=[
            ConnexionApi(
                info=ctx.info.api("tmf622"),
                operations=OrderHandlers(orders, v4_spec).operations(),
                error_shape=tmf_error,
                strict_validation=False,  # TMF630 attribute filters are query parameters the contract cannot list
            ),
            # v5: the same orders, validated against the contract derived from the official v5 OAS (own routes:
            # its recursive schemas cannot be inlined by connexion; errors in the same TMF shape)
            RoutedApi(info=v5_info, routes=v5.routes(), contract=v5.contract, error_shape=tmf_error),
        ],
        admin=AdminPart(Tmf622Admin(orders).operations()),
        tasks=[lambda stop: progress_orders(functools.partial(orders.due_steps, anywhere=True), ctx.store, stop)],
        on_clock_moved=orders.progress_due,
        indexes=INDEXES,
        across=[PLAN_KIND],  # the background progress finds the sandboxes with automatic plans
        start=(lambda: load_seed_file(seed, orders, inventory_schema)) if seed else None,
        services={"orders": orders},
        fast_path=order_creation(orders, v4_spec, f"{v4_base}/productOrder"),
        fast_reads=[order_reader(orders, f"{v4_base}/productOrder/")],
    )


async def progress_orders(
    due_steps: Callable[[str], Iterator[int]], store: FlowStore, stop: asyncio.Event, every: float = 0.5
) -> None:
    """The seller's automatic steps fall due on each sandbox's clock; look twice a second (the sandboxes with
    automatic plans come from the index; an admin clock advance runs what fell due at once). Each order's due steps
    are one transaction; between two the loop serves requests (hundreds of orders created a second fall due
    together)."""
    while not stop.is_set():
        for sandbox in sandboxes_with_plans(store):
            try:
                for _ in due_steps(sandbox):
                    await asyncio.sleep(0)
            except Exception:  # one sandbox's broken plan must not stop the others
                logger.exception("TMF622 progress in sandbox %s failed", sandbox)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
