"""The seller's inventory of the FIT profile: buyers' framework agreements and products, and the preconditions an
order must meet against them (domain/tmf622-fit.md §4.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pruefstand.mock_server.flows.tmf622.documents import AGREEMENT_KIND, ORDER_KIND, PRODUCT_KIND
from pruefstand.mock_server.flows.tmf622.profile import Profile
from pruefstand.mock_server.kernel.errors import Conflict, NotFound
from pruefstand.mock_server.store import FlowStore, SandboxUnit, SandboxView


class Inventory:
    def __init__(self, store: FlowStore) -> None:
        self._store = store

    def seed_agreement(self, sandbox: str, buyer: str, agreement: Mapping[str, Any]) -> None:
        with self._store.unit_of_work(sandbox) as uow:
            uow.put(AGREEMENT_KIND, buyer, with_id({**agreement, "buyer": buyer}))

    def seed_product(self, sandbox: str, product: Mapping[str, Any]) -> None:
        with self._store.unit_of_work(sandbox) as uow:
            uow.put(PRODUCT_KIND, str(product["id"]), dict(product))

    def seed(
        self,
        sandbox: str,
        agreements: Sequence[Mapping[str, Any]],
        products: Sequence[Mapping[str, Any]],
        *,
        replace: bool = True,
    ) -> dict[str, Any]:
        """Framework agreements (by buyer) and products (by id) in one transaction; returns what the sandbox holds.
        `replace=False` adds only what is not there yet (a seed file read at every start must not undo a
        termination that happened since)."""
        with self._store.unit_of_work(sandbox) as uow:
            for kind, key, doc in [
                *((AGREEMENT_KIND, str(a["buyer"]), with_id(a)) for a in agreements),
                *((PRODUCT_KIND, str(p["id"]), {"status": "active", **p}) for p in products),
            ]:
                if replace or uow.get(kind, key) is None:
                    uow.put(kind, key, doc)
        return self.holding(sandbox)

    def holding(self, sandbox: str) -> dict[str, Any]:
        return {
            "agreements": self._store.view(sandbox).find(AGREEMENT_KIND),
            "products": self._store.view(sandbox).find(PRODUCT_KIND),
        }

    def product(self, sandbox: str, product_id: str) -> dict[str, Any]:
        found = self._store.view(sandbox).get(PRODUCT_KIND, product_id)
        if found is None:
            raise NotFound(f"no product {product_id!r} in the inventory")
        return found

    @staticmethod
    def open_orders_on(reader: SandboxView, product_id: str, profile: Profile) -> list[dict[str, Any]]:
        """Orders on the product that are neither final nor completed in the profile (found through the index on the
        items' product ids; read inside the caller's transaction)."""
        return [
            o
            for o in reader.find(ORDER_KIND, {"productId": product_id})
            if not profile.orders.is_final(str(o.get("state"))) and str(o.get("state")) != profile.completed_state
        ]

    def check_preconditions(self, uow: SandboxUnit, buyer: str, body: Mapping[str, Any], profile: Profile) -> None:
        """A framework agreement; each item's product in the buyer's inventory (an `add` item needs none), not
        terminated, with no open order on it. The first that fails is refused, naming the field."""
        if uow.get(AGREEMENT_KIND, buyer) is None:
            raise Conflict(f"precondition: Auftraggeber {buyer!r} has no framework agreement (Rahmenvertrag)")
        for index, item in enumerate(body.get("productOrderItem", [])):
            product_id = (item.get("product") or {}).get("id")
            if product_id is None:
                if item.get("action") != "add":
                    raise Conflict(
                        f"precondition: $.productOrderItem[{index}].product.id is required for action "
                        f"{item.get('action')!r}: it names the product in the inventory"
                    )
                continue
            product = uow.get(PRODUCT_KIND, str(product_id))
            if product is None or product.get("owner") != buyer:
                raise Conflict(
                    f"precondition: $.productOrderItem[{index}].product.id {product_id!r} is not in the inventory "
                    f"of Auftraggeber {buyer!r}"
                )
            if product.get("status") == "terminated":
                raise Conflict(f"precondition: $.productOrderItem[{index}].product.id {product_id!r} is terminated")
            for other in self.open_orders_on(uow, str(product_id), profile):
                raise Conflict(
                    f"precondition: product {product_id!r} has an open order {other['id']} in state {other['state']!r}"
                )


def with_id(agreement: Mapping[str, Any]) -> dict[str, Any]:
    """A framework agreement always has an id (TMF AgreementRef): the one given, else its businessId, else one made
    from the buyer (RV-<Auftraggeber-Nummer>)."""
    given = agreement.get("id") or agreement.get("businessId") or f"RV-{agreement['buyer']}"
    return {"id": str(given), **{k: v for k, v in agreement.items() if k != "id"}}
