"""edge"""

from constructs_lib.edge._dns import WebDomain, WebDomainProps
from constructs_lib.edge._load_balancer import (
    DEREGISTRATION_DELAY,
    WebLoadBalancer,
    WebLoadBalancerProps,
    deletion_protection,
)
from constructs_lib.edge._web_acl import ALWAYS_REDACTED_HEADERS, WebAcl

__all__ = [
    "ALWAYS_REDACTED_HEADERS",
    "DEREGISTRATION_DELAY",
    "WebAcl",
    "WebDomain",
    "WebDomainProps",
    "WebLoadBalancer",
    "WebLoadBalancerProps",
    "deletion_protection",
]
