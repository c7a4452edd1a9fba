"""The TMF622 notifications as typed values: the pure rules return them, the hub validates each against the
listener contract and publishes it to every subscription that wants it (in the caller's unit of work)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

FieldPath = Mapping[str, str]


@dataclass(frozen=True)
class OrderEvent:
    """Something that happened to an order: the order as it now is, when, and (for attribute changes) where."""

    event_type: ClassVar[str]
    resource_name: ClassVar[str] = "productOrder"
    resource: Mapping[str, Any]
    at: str
    field_paths: Sequence[FieldPath] = field(default_factory=tuple)

    @property
    def subject(self) -> Mapping[str, Any]:
        """What a subscription's query is matched against."""
        return self.resource


@dataclass(frozen=True)
class ProductOrderCreateEvent(OrderEvent):
    event_type: ClassVar[str] = "ProductOrderCreateEvent"


@dataclass(frozen=True)
class ProductOrderStateChangeEvent(OrderEvent):
    event_type: ClassVar[str] = "ProductOrderStateChangeEvent"


@dataclass(frozen=True)
class ProductOrderAttributeValueChangeEvent(OrderEvent):
    event_type: ClassVar[str] = "ProductOrderAttributeValueChangeEvent"


@dataclass(frozen=True)
class ProductOrderDeleteEvent(OrderEvent):
    event_type: ClassVar[str] = "ProductOrderDeleteEvent"


@dataclass(frozen=True)
class ProductOrderInformationRequiredEvent(OrderEvent):
    event_type: ClassVar[str] = "ProductOrderInformationRequiredEvent"


@dataclass(frozen=True)
class ProductOrderMilestoneEvent(OrderEvent):
    event_type: ClassVar[str] = "ProductOrderMilestoneEvent"


@dataclass(frozen=True)
class TaskEvent(OrderEvent):
    """Something that happened to a cancellation task; subscriptions match it on the order it belongs to, so
    `relatedParty.id=me` also selects the tasks of my orders."""

    resource_name: ClassVar[str] = "cancelProductOrder"
    order: Mapping[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> Mapping[str, Any]:
        return self.order or self.resource


@dataclass(frozen=True)
class CancelProductOrderCreateEvent(TaskEvent):
    event_type: ClassVar[str] = "CancelProductOrderCreateEvent"


@dataclass(frozen=True)
class CancelProductOrderStateChangeEvent(TaskEvent):
    event_type: ClassVar[str] = "CancelProductOrderStateChangeEvent"


Event = OrderEvent
