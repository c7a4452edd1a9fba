"""TMF622 notifications as data: which subscriptions want an event, what the event looks like, where it goes.

Pure: the service writes what `deliveries_for` returns into the outbox, in the transaction of the order change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pruefstand.mock_server.flows.tmf622.tmf630 import Filter, matches, parse_filters


@dataclass(frozen=True)
class Subscription:
    """A hub registration: the buyer's callback and its query (`eventType=…&category=…&relatedParty.id=…`)."""

    id: str
    callback: str
    query: str = ""
    version: str = "v4"  # the API version it registered through: its events come in that version's shapes

    @property
    def event_types(self) -> frozenset[str]:
        """`eventType=A&eventType=B` or `eventType=A,B` (TMF630); none named: every event type."""
        return frozenset(t for k, v in parse_qsl(self.query) if k == "eventType" for t in v.split(",") if t)

    @property
    def filters(self) -> Sequence[Filter]:
        pairs = {attribute_path(k): v for k, v in parse_qsl(self.query) if k != "eventType"}
        return parse_filters(pairs)

    def wants(self, event_type: str, resource: Mapping[str, Any]) -> bool:
        """Whether this subscription receives `event_type` about `resource` (the order or the cancellation task)."""
        if self.event_types and event_type not in self.event_types:
            return False
        return matches(resource, self.filters)


# The seed's wording for the order attributes a buyer subscribes on (KUE-LE: productOrder.relatedPartyRefOrValue=AG)
_ALIASES = {
    "relatedPartyRefOrValue": "relatedParty.id",
    "relatedPartyRefOrValue.id": "relatedParty.id",
    "relatedParty.partyOrPartyRole.id": "relatedParty.id",  # TMF622 v5's wording
}


def attribute_path(key: str) -> str:
    """A query key as a path in the order: `productOrder.` (the event's payload) dropped, the seed's names mapped."""
    for prefix in ("productOrder.", "event.productOrder."):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return _ALIASES.get(key, key)


def query_violations(query: str, event_types: Iterable[str], attributes: Iterable[str]) -> list[str]:
    """Why a hub query could never be evaluated (an unknown event type or order attribute, a key without value)."""
    known_types, known_attributes = set(event_types), set(attributes)
    found = []
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        return [f"{query!r} is not a query string (key=value&key=value)"]
    for key, value in pairs:
        if key == "eventType":
            unknown = [t for t in value.split(",") if t not in known_types]
            if unknown or not value:
                found.append(f"eventType {', '.join(unknown) or '(empty)'} is not an event this hub sends")
        elif not value:
            found.append(f"{key} has no value")
        elif attribute_path(key).split(".")[0] not in known_attributes:
            found.append(f"{key} is not an attribute of a ProductOrder")
    return found


def listener_path(event_type: str) -> str:
    """`/listener/productOrderStateChangeEvent` for `ProductOrderStateChangeEvent`."""
    return f"/listener/{event_type[0].lower()}{event_type[1:]}"


def event_body(
    event_type: str,
    resource_name: str,
    resource: Mapping[str, Any],
    *,
    event_id: str,
    at: str,
    field_paths: Sequence[Mapping[str, str]] = (),
    as_text: bool = False,
) -> dict[str, Any]:
    """The TMF notification envelope with the resource under `event.<resource_name>`. `fieldPath` is the FIT list of
    {path, typeOfChange}, or with `as_text` the TMF622 v4 string (the changed attributes, comma-separated)."""
    body: dict[str, Any] = {
        "@type": event_type,  # the envelope names its type, as the FIT examples write it
        "eventId": event_id,
        "eventTime": at,
        "eventType": event_type,
        "event": {resource_name: dict(resource)},
    }
    if field_paths and as_text:
        body["fieldPath"] = ",".join(str(p["path"]).strip("/").replace("/", ".") for p in field_paths)
    elif field_paths:
        body["fieldPath"] = [dict(p) for p in field_paths]
    return body


def deliveries_for(
    subscriptions: Iterable[Subscription],
    event_type: str,
    resource: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    append_listener_path: bool = True,
) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(stream, target URL, body) for every subscription that wants the event; one stream per subscription keeps
    each buyer's events in order."""
    found = []
    for subscription in subscriptions:
        if subscription.wants(event_type, resource):
            base = subscription.callback.rstrip("/")
            target = base + listener_path(event_type) if append_listener_path else subscription.callback
            found.append((f"hub:{subscription.id}", target, body))
    return found
