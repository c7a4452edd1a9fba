"""TMF622 use cases against the store: orders with preconditions, state changes, the seller's progress (on the
sandbox clock or step by step), merge patches, cancellations, hub subscriptions, and the events they emit, written
to the outbox in the same transaction as the change (validated against the listener contract first)."""

from __future__ import annotations

from pruefstand.mock_server.flows.tmf622.buyer import BuyerUseCases
from pruefstand.mock_server.flows.tmf622.order_core import patch_refusals
from pruefstand.mock_server.flows.tmf622.seller import SellerUseCases

__all__ = ["OrderService", "patch_refusals"]


class OrderService(BuyerUseCases, SellerUseCases):
    """Every TMF622 use case on one object, as the handlers, the v5 routes and the admin API call them: the buyer's
    (buyer.py), the seller's (seller.py), the progress on the clock and the shared steps (order_core.py)."""
