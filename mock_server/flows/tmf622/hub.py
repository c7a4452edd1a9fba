"""The seller's hub: the buyers' subscriptions, and every event the order service emits, validated against the
listener contract and queued for each subscription whose query wants it, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pruefstand.contracts import SchemaValidator, Spec, Violation
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.flows.tmf622.documents import plain_v4
from pruefstand.mock_server.flows.tmf622.events import OrderEvent
from pruefstand.mock_server.flows.tmf622.notifications import Subscription, deliveries_for, event_body, query_violations
from pruefstand.mock_server.flows.tmf622.records import SUBSCRIPTION_KIND, read_subscriptions
from pruefstand.mock_server.flows.tmf622.v5 import event_v5
from pruefstand.mock_server.kernel.errors import BadRequest, Conflict, MockError, NotFound
from pruefstand.mock_server.kernel.id_source import IdSource
from pruefstand.mock_server.store import FlowStore, OutboundMessage, SandboxUnit

# Events the official TMF622 v4.0.0 does not define (the FIT-API overlay and v5 do): never sent to a plain v4 subscriber
NOT_IN_V4 = frozenset({"ProductOrderMilestoneEvent", "ProductOrderJeopardyAlertEvent"})


class EventContractError(MockError):
    """An event the mock built breaks the listener contract: a defect of the mock, never sent. `violations` name the
    places in the event."""

    def __init__(self, message: str, violations: list[Violation] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []

    def refusal(self, why: str) -> BadRequest:
        """The client's order could not be told to subscribers as it would be: refused naming the order's places
        (nothing was stored: the event is built in the order's own transaction)."""
        return BadRequest(self._places(why))

    def conflict(self, why: str) -> Conflict:
        """As `refusal`, for a schema-valid change whose result would not be a valid order: 409, as RFC 5789 2.2 and
        TMF622's own PATCH answers have it (the request cannot be applied to the order as it is)."""
        return Conflict("; ".join(str(v) for v in self._places(why)))

    def _places(self, why: str) -> list[Violation]:
        prefix = "$.event.productOrder"
        named = [
            Violation("$" + v.path[len(prefix) :], f"{v.message} ({why})")
            for v in self.violations
            if v.path.startswith(prefix)
        ]
        return named or [Violation("$", str(self))]


class Hub:
    def __init__(
        self,
        store: FlowStore,
        listener_spec: Spec,
        ids: IdSource,
        *,
        append_listener_path: bool = True,
        targets: TargetPolicy | None = None,
    ) -> None:
        self._store = store
        self._listener = listener_spec
        self._ids = ids
        self._append_listener_path = append_listener_path
        self._targets = targets or TargetPolicy()
        self._validators: dict[str, SchemaValidator] = {}
        operations = (op for item in listener_spec.document["paths"].values() for op in item.values())
        self._event_types = frozenset(  # what the listener contract lets the hub send
            str(op["operationId"]).removeprefix("listen")
            for op in operations
            if isinstance(op, dict) and str(op.get("operationId", "")).startswith("listen")
        )

    def register(
        self,
        sandbox: str,
        callback: str,
        query: str | None = "",
        attributes: Iterable[str] | None = None,
        version: str = "v4",
    ) -> dict[str, Any]:
        """A hub subscription; a callback the mock may not send to (not a URL, off the delivery allow-list, a private
        or metadata address), or a query it could never evaluate (an unknown event type or order attribute, when
        the order's attributes are given) is refused at once (400), since nothing would ever reach it."""
        refusal = self._targets.refusal(callback)
        if refusal is not None:
            raise BadRequest([Violation("$.callback", refusal)])
        if query and attributes is not None:
            problems = query_violations(query, self._event_types, attributes)
            if problems:
                raise BadRequest([Violation("$.query", problem) for problem in problems])
        # A query sent as null is left out (v4's query is a string; an empty one would be made up)
        subscription = {"id": self._ids.uuid(), "callback": callback, **({"query": query} if query is not None else {})}
        with self._store.unit_of_work(sandbox) as uow:
            uow.insert(SUBSCRIPTION_KIND, subscription["id"], {**subscription, "version": version})
        return subscription

    def unregister(self, sandbox: str, subscription_id: str) -> None:
        with self._store.unit_of_work(sandbox) as uow:
            if not uow.delete(SUBSCRIPTION_KIND, subscription_id):
                raise NotFound(f"no hub subscription {subscription_id!r}")

    def publish(
        self, uow: SandboxUnit, events: Iterable[OrderEvent], *, field_path: str = "array", plain: bool = False
    ) -> None:
        """Validate each event against the listener contract and queue it, in order, for every subscription whose
        query wants it (a task's event is matched on the order it belongs to). `plain`: the order is in the plain
        TMF622 v4 profile, so a v4 subscriber gets v4's shapes and no event v4 does not define (milestones)."""
        subscriptions = [
            Subscription(s["id"], s["callback"], s.get("query") or "", s.get("version") or "v4")
            for s in read_subscriptions(uow)
            if not s.get("deleted")  # tombstones of state files from before subscriptions were deleted
        ]
        by_version = {v: [s for s in subscriptions if s.version == v] for v in {s.version for s in subscriptions}}
        for event in events:
            body = event_body(
                event.event_type,
                event.resource_name,
                event.resource,
                event_id=self._ids.uuid(),
                at=event.at,
                field_paths=event.field_paths,
                as_text=field_path == "string",
            )
            violations = self._validator(event.event_type).violations(body)
            if violations:
                raise EventContractError(f"{event.event_type}: " + "; ".join(str(v) for v in violations), violations)
            found = [
                delivery
                for version, wanting in by_version.items()
                if version == "v5" or not (plain and event.event_type in NOT_IN_V4)
                for delivery in deliveries_for(
                    wanting,
                    event.event_type,
                    event.subject,
                    event_v5(body) if version == "v5" else plain_v4(body) if plain else body,
                    append_listener_path=self._append_listener_path,
                )
            ]
            for stream, target, message in found:
                uow.publish(OutboundMessage(stream, event.event_type, target, message))

    def _validator(self, event_type: str) -> SchemaValidator:
        if event_type not in self._validators:
            operation = self._listener.operation(f"listen{event_type}")
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            self._validators[event_type] = SchemaValidator(schema)
        return self._validators[event_type]
