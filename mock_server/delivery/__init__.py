"""Outbound delivery: an outbox written with the change it reports, drained by an asyncio worker with httpx."""

from mock_server.delivery.policy import RetryPolicy, host_allowed
from mock_server.delivery.worker import DeliveryWorker

__all__ = ["DeliveryWorker", "RetryPolicy", "host_allowed"]
