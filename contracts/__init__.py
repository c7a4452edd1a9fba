"""pruefstand.contracts: load contracts and check messages against them. Knows nothing of the mock."""

from pruefstand.contracts.errors import ContractError, MalformedMessage, SpecLoadError
from pruefstand.contracts.json_body import parse_json_body
from pruefstand.contracts.message_validation import DispatchingValidator, SchemaValidator, Violation, json_path
from pruefstand.contracts.spec_catalog import BUNDLED_APIS, BundledApi, bundled_spec_path, specs_root
from pruefstand.contracts.spec_loader import Spec, load_spec

__all__ = [
    "BUNDLED_APIS",
    "BundledApi",
    "ContractError",
    "DispatchingValidator",
    "MalformedMessage",
    "SchemaValidator",
    "Spec",
    "SpecLoadError",
    "Violation",
    "bundled_spec_path",
    "json_path",
    "load_spec",
    "parse_json_body",
    "specs_root",
]
