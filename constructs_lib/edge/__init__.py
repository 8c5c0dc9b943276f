"""The edge component: the load balancer and its listeners, the web ACL, the domain and its
certificate; its config section is `edge`."""

from constructs_lib.edge._config import (
    DomainSection,
    EdgeSection,
)
from constructs_lib.edge._dns import WebDomain
from constructs_lib.edge._load_balancer import (
    DEREGISTRATION_DELAY,
    WebLoadBalancer,
    deletion_protection,
)
from constructs_lib.edge._web_acl import ALWAYS_REDACTED_HEADERS, WebAcl

__all__ = [
    "ALWAYS_REDACTED_HEADERS",
    "DEREGISTRATION_DELAY",
    "DomainSection",
    "EdgeSection",
    "WebAcl",
    "WebDomain",
    "WebLoadBalancer",
    "deletion_protection",
]
