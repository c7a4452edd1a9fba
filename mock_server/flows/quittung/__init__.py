"""Strom-Quittung (electricity receipt): the draft store, issuing with a signature, the receipt as documents."""

from pruefstand.mock_server.flows.quittung.settings import QuittungSection
from pruefstand.mock_server.kernel.flow_info import ApiInfo, FlowInfo

FLOW = FlowInfo(
    name="quittung",
    summary="Strom-Quittung: draft per account, issued with a receipt number and an ECDSA signature, PDF, ZUGFeRD",
    apis=(
        ApiInfo(
            "quittung", "quittung/quittung.yaml", "/v2.0", "Strom-Quittung", links={"prepare": "/quittung/prepare"}
        ),
    ),
    mount="pruefstand.mock_server.flows.quittung.mount:mount",
    settings=QuittungSection,
    scenarios="quittung",
)
