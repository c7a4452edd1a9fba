"""A plain TMF622 v4 client against `pruefstand serve` as the README starts it: no authentication, no FIT fields, no
admin step. It creates, lists, filters by id and by orderDate (an unencoded `+01:00` and the `Z` form), retrieves,
patches with application/json, cancels and deletes orders; every answer is valid by the official v4 definitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.contract.test_serve_process import serving
from tests.integration.test_tmf622_profiles import PLAIN, v4_errors

pytestmark = pytest.mark.slow
TMF = "/tmf-api/productOrderingManagement/v4"


def valid(definition: str, instance: Any) -> Any:
    assert v4_errors(definition, instance) == [], f"{definition}: {json.dumps(instance)[:400]}"
    return instance


def test_a_plain_v4_client_runs_the_whole_order_lifecycle_against_serve(tmp_path: Path) -> None:
    # The seller's steps are minutes apart here, so the order is still open when the client cancels it.
    env = {"PRUEFSTAND_TMF622_STEP_DELAY": "600"}
    with serving(tmp_path / "state.db", free_port(), env=env) as (base, _), httpx.Client(base_url=base + TMF) as tmf:
        created = tmf.post("/productOrder", json=PLAIN)
        assert created.status_code == 201, created.text
        order = valid("ProductOrder", created.json())
        assert created.headers["Location"] == order["href"]
        second = valid("ProductOrder", tmf.post("/productOrder", json=PLAIN).json())

        listed = tmf.get("/productOrder")
        assert [o["id"] for o in listed.json()] == [order["id"], second["id"]]
        for item in listed.json():
            valid("ProductOrder", item)
        assert [o["id"] for o in tmf.get("/productOrder", params={"id": order["id"]}).json()] == [order["id"]]

        stamp = order["orderDate"]  # German time with its offset, e.g. 2026-12-01T05:42:00+01:00
        unencoded = tmf.get(f"/productOrder?orderDate={stamp}")  # the + arrives as a space
        assert order["id"] in [o["id"] for o in unencoded.json()], unencoded.text
        in_utc = datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        utc = tmf.get("/productOrder", params={"orderDate": in_utc})
        assert order["id"] in [o["id"] for o in utc.json()], utc.text

        retrieved = valid("ProductOrder", tmf.get(f"/productOrder/{order['id']}").json())
        assert retrieved == order

        patched = tmf.patch(f"/productOrder/{order['id']}", json={"description": "changed by a v4 SDK"})
        assert patched.status_code == 200, patched.text
        assert valid("ProductOrder", patched.json())["description"] == "changed by a v4 SDK"

        cancel = tmf.post("/cancelProductOrder", json={"productOrder": {"id": order["id"]}})
        assert cancel.status_code == 201, cancel.text
        assert valid("CancelProductOrder", cancel.json())["state"] == "done"
        assert valid("ProductOrder", tmf.get(f"/productOrder/{order['id']}").json())["state"] == "cancelled"

        deleted = tmf.delete(f"/productOrder/{second['id']}")
        assert deleted.status_code == 204
        assert tmf.get(f"/productOrder/{second['id']}").status_code == 404
        hub = tmf.post("/hub", json={"callback": "http://127.0.0.1:9/v4-client", "query": None})
        assert hub.status_code == 201, hub.text
        assert "query" not in valid("EventSubscription", hub.json())  # null: no query, and none made up
