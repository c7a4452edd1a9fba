"""TMF622 v5 as a view of the same orders: what a v5 client sends becomes the stored (v4-shaped) order, and every
stored order, task, subscription and event is shown in v5's shapes. Pure functions; no store, no HTTP.

The differences that matter (official v5.0.0 OAS against v4.0.0): every object names its `@type`; a related party
is a `RelatedPartyRefOrPartyRoleRef` holding the party under `partyOrPartyRole`; references carry `@type` (ProductRef,
ProductOfferingRef, AgreementRef, ...); `externalId` is a list of ExternalIdentifier; v5's ProductOrder has no
`orderDate` or state history (v4's extras are left out of the view); AttributeValueChange events carry no fieldPath.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

V4_BASE = "/tmf-api/productOrderingManagement/v4"
V5_BASE = "/tmf-api/productOrderingManagement/v5"

# v5 ProductOrder's attributes (the official schema's properties, Entity's id/href and Extensible's @-fields).
ORDER_ATTRIBUTES = frozenset(
    {
        "id", "href", "@type", "@baseType", "@schemaLocation", "agreement", "billingAccount", "cancellationDate",
        "cancellationReason", "category", "channel", "completionDate", "creationDate", "description",
        "expectedCompletionDate", "externalId", "note", "notificationContact", "orderRelationship", "orderTotalPrice",
        "payment", "priority", "productOfferingQualification", "productOrderErrorMessage", "productOrderItem",
        "productOrderJeopardyAlert", "productOrderMilestone", "quote", "relatedParty", "requestedCompletionDate",
        "requestedInitialState", "requestedStartDate", "state",
    }
)  # fmt: skip
# Order states of the v5 enum; a FIT state outside it is shown as its v5 counterpart.
_STATES = {"accepted": "inProgress.accepted", "closed": "completed"}
# The @type of a reference attribute (list items or a single object) when the stored one names none.
_REF_TYPES = {
    "agreement": "AgreementRef",
    "billingAccount": "BillingAccountRef",
    "channel": "RelatedChannel",
    "externalId": "ExternalIdentifier",
    "note": "Note",
    "payment": "PaymentRef",
    "productOfferingQualification": "ProductOfferingQualificationRef",
    "quote": "QuoteRef",
    "productOrderMilestone": "ProductOrderMilestone",
    "productOrderJeopardyAlert": "ProductOrderJeopardyAlert",
    "productOrderErrorMessage": "ProductOrderErrorMessage",
    "orderRelationship": "OrderRelationship",
    "orderTotalPrice": "OrderPrice",
}
_ITEM_REF_TYPES = {
    "productOffering": "ProductOfferingRef",
    "billingAccount": "BillingAccountRef",
    "appointment": "AppointmentRef",
    "note": "Note",
    "payment": "PaymentRef",
    "itemPrice": "OrderPrice",
    "itemTotalPrice": "OrderPrice",
    "itemTerm": "OrderTerm",
    "productOrderItemRelationship": "OrderItemRelationship",
    "qualification": "ProductOfferingQualificationItemRef",
    "quoteItem": "QuoteItemRef",
    "productOfferingQualificationItem": "ProductOfferingQualificationItemRef",
}
_ITEM_STATES = frozenset(
    {"acknowledged", "rejected", "pending", "held", "inProgress", "cancelled", "completed", "failed",
     "assessingCancellation", "pendingCancellation"}
)  # fmt: skip
_REQUIRES_ID = frozenset({"agreement", "billingAccount", "payment", "productOfferingQualification", "quote"})


def _typed(value: Any, type_name: str) -> Any:
    """An object with its own `@type`, or `type_name` when it names none."""
    if isinstance(value, Mapping):
        return {**value, "@type": value.get("@type") or type_name}
    return value


def _typed_all(value: Any, type_name: str, *, needs_id: bool = False) -> Any:
    if isinstance(value, list):
        return [_typed(v, type_name) for v in value if not needs_id or (isinstance(v, Mapping) and v.get("id"))]
    return _typed(value, type_name)


def href_v5(href: str) -> str:
    return href.replace(V4_BASE, V5_BASE, 1)


# stored -> v5
def party_v5(party: Mapping[str, Any]) -> dict[str, Any]:
    """v4 RelatedParty {id, name, role, @referredType} -> v5 RelatedPartyRefOrPartyRoleRef. v5 requires a role; a
    stored party without one is shown with role `relatedParty`."""
    shown: dict[str, Any] = {"@type": "RelatedPartyRefOrPartyRoleRef", "role": party.get("role") or "relatedParty"}
    if party.get("id"):
        referred = str(party.get("@referredType") or "Organization")
        ref: dict[str, Any] = {
            "@type": "PartyRoleRef" if referred.endswith("Role") else "PartyRef",
            "id": str(party["id"]),
            "@referredType": referred,
        }
        for key in ("href", "name"):
            if party.get(key):
                ref[key] = party[key]
        shown["partyOrPartyRole"] = ref
    return shown


def product_v5(product: Mapping[str, Any]) -> dict[str, Any]:
    """A product named only by reference is a ProductRef; one with values is a Product (v5 ProductRefOrValue)."""
    ref_keys = {"id", "href", "name", "@referredType", "@type", "@baseType", "@schemaLocation"}
    if product.get("id") and set(product) <= ref_keys:
        return {**{k: v for k, v in product.items() if k != "@type"}, "@type": "ProductRef"}
    shown = {k: v for k, v in product.items() if k not in ("@type", "@referredType")}
    if "relatedParty" in shown:
        shown["relatedParty"] = [party_v5(p) for p in shown["relatedParty"] if isinstance(p, Mapping)]
    return {"@type": "Product", **shown}


def item_v5(item: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"@type": "ProductOrderItem"}
    for key, value in item.items():
        if key == "@type":
            continue
        if key == "product" and isinstance(value, Mapping):
            shown[key] = product_v5(value)
        elif key == "productOrderItem" and isinstance(value, list):
            shown[key] = [item_v5(i) for i in value if isinstance(i, Mapping)]
        elif key == "state":
            if value in _ITEM_STATES:
                shown[key] = value
        elif key in _ITEM_REF_TYPES:
            shown[key] = _typed_all(value, _ITEM_REF_TYPES[key])
        else:
            shown[key] = value
    return shown


def order_v5(order: Mapping[str, Any]) -> dict[str, Any]:
    """A stored order as v5 shows it."""
    shown: dict[str, Any] = {"@type": "ProductOrder"}
    for key, value in order.items():
        if key not in ORDER_ATTRIBUTES or key == "@type":
            continue
        if key == "href":
            shown[key] = href_v5(str(value))
        elif key == "state":
            shown[key] = _STATES.get(str(value), value)
        elif key == "relatedParty" and isinstance(value, list):
            shown[key] = [party_v5(p) for p in value if isinstance(p, Mapping)]
        elif key == "productOrderItem" and isinstance(value, list):
            shown[key] = [item_v5(i) for i in value if isinstance(i, Mapping)]
        elif key == "productOrderMilestone" and isinstance(value, list):
            shown[key] = [_milestone_v5(m) for m in value if isinstance(m, Mapping)]
        elif key == "externalId":
            ids = value if isinstance(value, list) else [{"id": str(value)}]
            shown[key] = [_typed(i, "ExternalIdentifier") for i in ids if isinstance(i, Mapping)]
        elif key in _REF_TYPES:
            shown[key] = _typed_all(value, _REF_TYPES[key], needs_id=key in _REQUIRES_ID)
        else:
            shown[key] = value
    return shown


_MILESTONE_STATES = ("Yet-To-Reach", "Completed", "Violated")


def _milestone_v5(milestone: Mapping[str, Any]) -> dict[str, Any]:
    """v5's milestone status is Yet-To-Reach, Completed or Violated: a milestone stored before that was `reached`."""
    shown: dict[str, Any] = {**milestone, "@type": milestone.get("@type") or "ProductOrderMilestone"}
    if shown.get("status") not in _MILESTONE_STATES:
        shown["status"] = "Completed"
    return shown


def task_v5(task: Mapping[str, Any]) -> dict[str, Any]:
    """A CancelProductOrder as v5 shows it (v5 has no state history on tasks)."""
    keep = ("id", "href", "state", "creationDate", "requestedCancellationDate", "cancellationReason",
            "effectiveCancellationDate")  # fmt: skip
    shown: dict[str, Any] = {"@type": "CancelProductOrder", **{k: task[k] for k in keep if k in task}}
    shown["href"] = href_v5(str(task.get("href", "")))
    ordered = task.get("productOrder") or {}
    shown["productOrder"] = {
        "@type": "ProductOrderRef",
        "id": str(ordered.get("id")),
        **({"href": href_v5(str(ordered["href"]))} if ordered.get("href") else {}),
    }
    if "creationDate" not in shown and task.get("stateChangeDate"):
        shown["creationDate"] = task["stateChangeDate"]
    return shown


def subscription_v5(subscription: Mapping[str, Any]) -> dict[str, Any]:
    return {"@type": "Hub", **{k: v for k, v in subscription.items() if k in ("id", "callback", "query")}}


def event_v5(body: Mapping[str, Any]) -> dict[str, Any]:
    """A v4 event envelope as v5 sends it: the resource in its v5 shape, no fieldPath (not in v5's events)."""
    payload = body.get("event") or {}
    shown_payload: dict[str, Any] = {}
    for name, resource in payload.items():
        if name == "productOrder":
            shown_payload[name] = order_v5(resource)
        elif name == "cancelProductOrder":
            shown_payload[name] = task_v5(resource)
        else:
            shown_payload[name] = resource
    keep = ("eventId", "eventTime", "eventType", "correlationId", "description", "priority")
    return {"@type": str(body["eventType"]), **{k: body[k] for k in keep if k in body}, "event": shown_payload}


# v5 -> stored
def party_from_v5(party: Mapping[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = {k: v for k, v in party.items() if k not in ("@type", "partyOrPartyRole")}
    ref = party.get("partyOrPartyRole") or {}
    for key in ("id", "href", "name", "@referredType"):
        if ref.get(key):
            stored[key] = ref[key]
    return stored


def item_from_v5(item: Mapping[str, Any]) -> dict[str, Any]:
    stored = {k: v for k, v in item.items() if k != "@type"}
    product = stored.get("product")
    if isinstance(product, Mapping):
        stored["product"] = {k: v for k, v in product.items() if k != "@type"}
        if isinstance(product.get("relatedParty"), list):
            stored["product"]["relatedParty"] = [party_from_v5(p) for p in product["relatedParty"]]
    if isinstance(stored.get("productOrderItem"), list):
        stored["productOrderItem"] = [item_from_v5(i) for i in stored["productOrderItem"]]
    return stored


def order_from_v5(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a v5 client posts (ProductOrder_FVO) or merges (ProductOrder_MVO) as the stored order's attributes."""
    stored: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("@type", "@baseType", "@schemaLocation", "requestedInitialState"):
            continue
        if key == "relatedParty" and isinstance(value, list):
            stored[key] = [party_from_v5(p) for p in value]
        elif key == "productOrderItem" and isinstance(value, list):
            stored[key] = [item_from_v5(i) for i in value]
        else:
            stored[key] = value
    return stored
