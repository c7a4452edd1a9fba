"""The TMF622 seed file: framework agreements and products per sandbox, loaded when the mock starts.

    sandboxes:
      default:
        agreements: [{buyer: "500011", businessId: RV-1, agreementType: frameworkAgreement}]
        products: [{id: 922ebf01-…, owner: "500011", singleContractId: "3091231119", buyerServiceContract: "500012"}]

Each sandbox's part has the format of `PUT /_admin/sandboxes/<s>/tmf622/inventory` and is checked against it. Only
what a sandbox does not hold yet is added: restarting the mock does not undo what happened since (a termination).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pruefstand.contracts import SchemaValidator
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.sandbox import sandbox_name


class SeedFileError(MockError):
    """The seed file cannot be read or breaks the inventory format; the message names the file and the field."""


def load_seed_file(path: Path, orders: OrderService, inventory_schema: Mapping[str, Any]) -> int:
    """Seed every sandbox the file names; returns how many sandboxes were seeded."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SeedFileError(f"{path}: {exc}") from exc
    sandboxes = data.get("sandboxes") if isinstance(data, dict) else None
    if not isinstance(sandboxes, dict):
        raise SeedFileError(f"{path}: expected a mapping 'sandboxes' of sandbox name to inventory")
    validator = SchemaValidator(inventory_schema)
    for name, inventory in sandboxes.items():
        violations = validator.violations(inventory)
        if violations:
            raise SeedFileError(f"{path}: sandboxes.{name}: " + "; ".join(str(v) for v in violations))
        orders.inventory.seed(
            sandbox_name(str(name)), inventory.get("agreements", []), inventory.get("products", []), replace=False
        )
    return len(sandboxes)
