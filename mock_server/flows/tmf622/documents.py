"""The order documents of the FIT-API profile: who the buyer of an order is, what a new order and a termination by
the seller look like, what a merge patch may change. Pure functions; the service stores what they return."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import json_merge_patch
import jsonpatch
import jsonpointer

from pruefstand.contracts import Violation
from pruefstand.mock_server.flows.tmf622.records import PLAN_KIND, SUBSCRIPTION_KIND
from pruefstand.mock_server.store.indexing import Index

__all__ = ["PLAN_KIND", "SUBSCRIPTION_KIND"]  # the flow's own record kinds, named beside the documents' kinds

BASE = "/tmf-api/productOrderingManagement/v4"
# The record kinds the flow keeps in the store.
ORDER_KIND, TASK_KIND = "tmf.order", "tmf.cancelProductOrder"
PRODUCT_KIND, AGREEMENT_KIND = "tmf.product", "tmf.agreement"
INFO_REQUEST_KIND = "tmf.informationRequired"
PROFILE_KIND = "tmf.profile"  # the sandbox's chosen profile (admin API)
# The fields looked up in the database (TMF630 filters, the open-order precondition, the background task's plans).
INDEXES = [
    Index(ORDER_KIND, "id", "id"),
    Index(ORDER_KIND, "state", "state"),
    Index(ORDER_KIND, "orderDate", "orderDate", instant=True),
    Index(ORDER_KIND, "externalId", "externalId"),
    Index(ORDER_KIND, "category", "category"),
    Index(ORDER_KIND, "relatedParty.id", "relatedParty.id"),
    Index(ORDER_KIND, "productId", "productOrderItem.product.id"),
    Index(TASK_KIND, "id", "id"),
    Index(TASK_KIND, "state", "state"),
    Index(TASK_KIND, "productOrder.id", "productOrder.id"),
    Index(PLAN_KIND, "mode", "mode"),
    Index(PLAN_KIND, "nextDue", "nextDue", numeric=True),  # the background task reads only the plans that are due
]
BUYER_ROLES = frozenset({"customer", "buyer", "auftraggeber"})
# What the seller sets; a buyer's merge patch may not touch it (the state only moves along the state machine).
SERVER_OWNED = frozenset(
    {
        "id",
        "href",
        "orderDate",
        "creationDate",
        "state",
        "stateChangeDate",
        "stateChangeReason",
        "stateChangeHistory",
        "completionDate",
        "cancellationDate",
        "expectedCompletionDate",
        "expectedCompletionTimePeriod",
    }
)


PLAIN_PROFILE = "tmf622"


def plain_v4(node: Any) -> Any:
    """An order (or the orders of an answer or event) as plain TMF622 v4 shows it: `externalId` is one string there
    (the FIT-API profile and v5 keep ExternalIdentifier[]): the first identifier's id."""
    if isinstance(node, list):
        return [plain_v4(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    shown = {key: plain_v4(value) if key in ("event", "productOrder") else value for key, value in node.items()}
    external = shown.get("externalId")
    if isinstance(external, list):
        first = next((str(i["id"]) for i in external if isinstance(i, Mapping) and i.get("id") is not None), None)
        if first is None:
            shown.pop("externalId")
        else:
            shown["externalId"] = first
    return shown


def sends_external_id_list(given: Any) -> bool:
    """Whether a body, a merge patch or a JSON Patch gives externalId as a list (ExternalIdentifier[], the FIT-API
    profile's and v5's shape; plain v4 has one string)."""
    if isinstance(given, Mapping):
        return isinstance(given.get("externalId"), list)
    if isinstance(given, list):
        return any(
            isinstance(op, Mapping) and str(op.get("path", "")).startswith("/externalId")
            and isinstance(op.get("value"), list)
            for op in given
        )  # fmt: skip
    return False


def buyer_of(body: Mapping[str, Any]) -> str | Violation:
    """The Auftraggeber of an order: the `relatedParty` with a buyer role (customer, buyer), else the
    `engagedParty.businessId` of its buyerServiceContract agreement (as the FIT seed names the Auftraggeber-Nummer)."""
    for party in body.get("relatedParty") or []:
        if str(party.get("role", "")).lower() in BUYER_ROLES and party.get("id"):
            return str(party["id"])
    for agreement in body.get("agreement") or []:
        engaged = agreement.get("engagedParty") or {}
        if agreement.get("agreementType") == "buyerServiceContract" and engaged.get("businessId"):
            return str(engaged["businessId"])
    return Violation(
        "$.relatedParty",
        "names no Auftraggeber: expected a relatedParty with role 'customer' and an id, or an agreement with "
        "agreementType 'buyerServiceContract' and engagedParty.businessId",
    )


def instant_seconds(text: str) -> float | None:
    """A date-time with an offset as POSIX seconds; None for anything else."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if moment.tzinfo is None else moment.timestamp()


def new_order(
    order_id: str,
    body: Mapping[str, Any],
    buyer: str | None,
    now: str,
    initial: str,
    initial_reason: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A buyer's order as stored: what was posted, the server's fields, and the buyer as related party (when one is
    known; a plain v4 order may name nobody); the first state's reason where the profile gives one."""
    parties = list(body.get("relatedParty") or [])
    if buyer is not None and not any(str(p.get("role", "")).lower() in BUYER_ROLES for p in parties):
        parties.insert(0, {"id": buyer, "role": "customer", "@referredType": "Organization"})
    return {
        "@type": "ProductOrder",
        **copy.deepcopy(dict(body)),
        "id": order_id,
        "href": f"{BASE}/productOrder/{order_id}",
        "orderDate": now,
        "creationDate": now,
        "orderPostedDate": body.get("orderPostedDate", now),
        "state": initial,
        "stateChangeDate": now,
        **({"stateChangeReason": dict(initial_reason)} if initial_reason else {}),
        "relatedParty": parties,
    }


def termination_by_seller(
    order_id: str,
    product: Mapping[str, Any],
    buyer: str,
    *,
    now: str,
    initial: str,
    requested: str,
    external_id: str,
    category: str,
    order_posted: str | None,
    initial_reason: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The seller's termination order as the FIT seed's field table has it: category, orderPostedDate, the requested
    termination date, the single contract and the buyer service contract (Leistungs- and Auftraggeber-Nummer), the
    external order number the seller assigned, one item `delete` naming the product. No buyer contact and no
    buyer order number: the seller created the order."""
    agreements: list[dict[str, Any]] = []
    if product.get("singleContractId"):
        agreements.append(
            {
                "id": str(product["singleContractId"]),
                "businessId": str(product["singleContractId"]),
                "agreementType": "singleContract",
                "name": "singleContract",
            }
        )
    agreements.append(
        {
            "id": str(product.get("buyerServiceContract") or buyer),
            "businessId": str(product.get("buyerServiceContract") or buyer),
            "agreementType": "buyerServiceContract",
            "name": "buyerServiceContract",
            "engagedParty": {"businessId": buyer},
        }
    )
    return {
        "@type": "ProductOrder",
        "id": order_id,
        "href": f"{BASE}/productOrder/{order_id}",
        "category": category,
        "orderDate": now,
        "creationDate": now,
        "orderPostedDate": order_posted or now,
        "state": initial,
        "stateChangeDate": now,
        **({"stateChangeReason": dict(initial_reason)} if initial_reason else {}),
        "requestedCompletionDate": requested,
        "requestedCompletionTimePeriod": {"startDateTime": requested},
        "externalId": [{"id": external_id, "owner": "seller", "externalIdentifierType": "sellerOrderNumber"}],
        "agreement": agreements,
        "relatedParty": [{"id": buyer, "role": "customer", "@referredType": "Organization"}],
        "productOrderItem": [
            {"id": "1", "action": "delete", "product": {"id": str(product["id"]), "@type": "ProductRef"}}
        ],
    }


# What a buyer may change (ProductOrder_Update's properties; a test keeps the two equal).
PATCHABLE = frozenset(
    {
        "@type",
        "@baseType",
        "@schemaLocation",
        "agreement",
        "billingAccount",
        "category",
        "channel",
        "description",
        "externalId",
        "note",
        "notificationContact",
        "orderPostedDate",
        "payment",
        "priority",
        "productOfferingQualification",
        "productOrderItem",
        "quote",
        "relatedParty",
        "requestedCompletionDate",
        "requestedCompletionTimePeriod",
        "requestedStartDate",
    }
)


class PatchConflict(Exception):
    """A JSON Patch that does not apply to the order in its current state."""


def json_patched(
    order: Mapping[str, Any], operations: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, str]], list[str]]:
    """RFC 6902 JSON Patch of a buyer's changes: the patched order, the fieldPath entries of the first-level
    attributes that changed, and their names. Refused (PermissionError naming the attribute) where it would touch
    what the seller owns or what TMF622 does not know; a malformed operation is a ValueError. An operation that does
    not fit the order as it is now (a failed `test`, a path that is not there) is a PatchConflict: RFC 5789 2.2
    calls that a conflicting state (409)."""
    patched: Any = copy.deepcopy(dict(order))
    for number, operation in enumerate(operations):  # one at a time, to name the one that does not apply
        where = f"operation {number} ({operation.get('op')} {operation.get('path')})"
        try:
            patched = jsonpatch.apply_patch(patched, [operation])
        except jsonpatch.JsonPatchTestFailed as exc:
            found = "the value differs" if "not equal" in str(exc) else "the path is not there"
            raise PatchConflict(f"{where}: the test failed, {found}") from exc
        except (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException) as exc:
            raise PatchConflict(f"{where}: the path is not there in the order") from exc
        except jsonpatch.JsonPatchException as exc:
            raise ValueError(f"{where}: {str(exc)[:200]}") from exc
    if not isinstance(patched, dict):
        raise ValueError("a JSON Patch of an order must leave an object")
    changed = sorted(k for k in {*order, *patched} if order.get(k, _ABSENT) != patched.get(k, _ABSENT))
    owned = [k for k in changed if k in SERVER_OWNED]
    if owned:
        raise PermissionError(", ".join(f"$.{name}" for name in owned))
    unknown = [k for k in changed if k not in PATCHABLE]
    if unknown:
        raise ValueError(f"$.{unknown[0]}: not an attribute of a ProductOrder that a buyer may change")
    paths = [
        {"path": f"/{k}/", "typeOfChange": "add" if k not in order else "delete" if k not in patched else "modify"}
        for k in changed
    ]
    return patched, paths, changed


_ABSENT = object()


def merge_patched(order: Mapping[str, Any], patch: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """RFC 7386 merge patch of a buyer's changes; returns the patched order and the fieldPath entries (add, modify,
    delete) of the first-level attributes that changed. Server-owned attributes are refused."""
    owned = sorted(SERVER_OWNED & set(patch))
    if owned:
        raise PermissionError(", ".join(f"$.{name}" for name in owned))
    patched: dict[str, Any] = json_merge_patch.merge(copy.deepcopy(dict(order)), copy.deepcopy(dict(patch)))
    paths = []
    for key in patch:
        if key not in order and key in patched:
            paths.append({"path": f"/{key}/", "typeOfChange": "add"})
        elif key in order and key not in patched:
            paths.append({"path": f"/{key}/", "typeOfChange": "delete"})
        elif order.get(key) != patched.get(key):
            paths.append({"path": f"/{key}/", "typeOfChange": "modify"})
    return patched, paths


def information_paths(order: Mapping[str, Any], fields: Sequence[str]) -> list[dict[str, str]]:
    """FIT InformationRequired `fieldPath` entries for dotted attribute paths (`requestedCompletionDate`,
    `productOrderItem.requestedTimeSlot.validFor.startDateTime`): `add` where the order has no value yet, else
    `modify`."""
    return [{"path": field, "typeOfChange": "modify" if _has(order, field.split(".")) else "add"} for field in fields]


def answered(given: Mapping[str, Any], fields: Sequence[str]) -> bool:
    """Whether the buyer's patches have touched the first-level attribute of every requested field."""
    return all(field.split(".")[0] in given for field in fields)


def _has(node: Any, path: list[str]) -> bool:
    if not path:
        return node is not None
    if isinstance(node, list):
        return any(_has(item, path) for item in node)
    return isinstance(node, Mapping) and path[0] in node and _has(node[path[0]], path[1:])
