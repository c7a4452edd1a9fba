"""Outbound delivery: an outbox written with the change it reports, drained by an asyncio worker with httpx."""

from pruefstand.mock_server.delivery.policy import RetryPolicy
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.delivery.worker import DeliveryWorker

__all__ = ["DeliveryWorker", "RetryPolicy", "TargetPolicy"]
