"""TMF622 Product Ordering, plain TM Forum v4 and the FIT-API profile, and v5: orders, hub, the seller's steps."""

from pruefstand.mock_server.flows.tmf622.settings import Tmf622Settings
from pruefstand.mock_server.kernel.flow_info import ApiInfo, FlowInfo

V4_BASE = "/tmf-api/productOrderingManagement/v4"
V5_BASE = "/tmf-api/productOrderingManagement/v5"

FLOW = FlowInfo(
    name="tmf622",
    summary="TMF622 Product Ordering (plain v4, FIT-API profile, v5): orders, hub, events, the seller's steps",
    apis=(
        ApiInfo(
            "tmf622",
            "tmf622/product-ordering.yaml",
            V4_BASE,
            "TMF622 ordering",
            links={"orders": "/productOrder", "hub": "/hub"},
        ),
        ApiInfo(
            "tmf622-v5",
            "tmf622/product-ordering-v5.json",
            V5_BASE,
            "TMF622 v5",
            resolve="external",
            links={"orders": "/productOrder"},
            suppressed_health_checks=("data_too_large", "large_base_example", "too_slow"),
        ),
        ApiInfo("tmf622-listener", "tmf622/listener.yaml", "", "TMF622 buyer's listener", served=False),
    ),
    mount="pruefstand.mock_server.flows.tmf622.mount:mount",
    settings=Tmf622Settings,
    admin_spec="tmf622/admin.yaml",
    scenarios="tmf622",
)
