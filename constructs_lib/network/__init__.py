"""The network component: the VPC across the configured AZs, its subnets, NAT or AWS-only egress,
endpoints and flow logs; its config section is `network`."""

from constructs_lib.network._config import (
    NetworkSection,
)
from constructs_lib.network._flow_logs import FlowLogs
from constructs_lib.network._prefix_lists import (
    MissingLookupError,
    s3_prefix_list,
    s3_prefix_list_name,
)
from constructs_lib.network._vpc import APP_TIER, Network

__all__ = [
    "APP_TIER",
    "FlowLogs",
    "MissingLookupError",
    "Network",
    "NetworkSection",
    "s3_prefix_list",
    "s3_prefix_list_name",
]
