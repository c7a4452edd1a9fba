"""Mounts the Strom-Quittung flow: the draft store, issuing with a signature, the receipt as documents."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from pruefstand.mock_server.flows.mounting import ConnexionApi, Flow, MountContext
from pruefstand.mock_server.flows.quittung.amounts import Tariff
from pruefstand.mock_server.flows.quittung.errors import quittung_error
from pruefstand.mock_server.flows.quittung.fast_path import receipt_creation
from pruefstand.mock_server.flows.quittung.handlers import ReceiptHandlers
from pruefstand.mock_server.flows.quittung.service import QuittungSettings, ReceiptService
from pruefstand.mock_server.flows.quittung.settings import QuittungSection
from pruefstand.mock_server.flows.quittung.signing_unit import SigningUnit


def mount(ctx: MountContext) -> Flow:
    section: QuittungSection = ctx.section(QuittungSection)
    unit = SigningUnit(ctx.store, ctx.ids)
    receipts = ReceiptService(
        ctx.store,
        ctx.clock,
        unit,
        QuittungSettings(
            tariff=Tariff(Decimal(section.energy_price_ct), Decimal(section.base_price_eur)),
            client_id=section.client_id,
            strict=section.strict,
        ),
        ctx.ids,
    )
    handlers = ReceiptHandlers(receipts)
    api = ctx.info.api("quittung")

    async def render_process_ends_with_the_app(stop: asyncio.Event) -> None:
        await stop.wait()
        handlers.close()

    return Flow(
        name=ctx.info.name,
        apis=[ConnexionApi(info=api, operations=handlers.operations(), error_shape=quittung_error)],
        fast_path=receipt_creation(receipts, ctx.spec("quittung"), f"{api.base_path}/quittung/create"),
        tasks=[render_process_ends_with_the_app],
        start=unit.load,  # the installation key: read, or made on the very first start
        services={"receipts": receipts},
    )
