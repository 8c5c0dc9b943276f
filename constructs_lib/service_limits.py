"""What AWS accepts, as this app relies on it: the limits the config validates against, and the
values the constructs build with (log retentions), so that no construct imports
the config module for an AWS fact."""

from __future__ import annotations

import math
from typing import Literal, get_args

# The retentions CloudWatch Logs accepts, ascending.
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
]  # fmt: skip
LOG_RETENTION_DAYS: tuple[int, ...] = get_args(LogRetentionDays)
SUBNET_TIERS = 3  # this app's layout (constructs_lib/network.py): public, private, isolated
LARGEST_SUBNET_PREFIX = 27  # an Application Load Balancer needs 8 free addresses per subnet
# ACM puts the domain into the certificate's Common Name, which RFC 5280 limits to 64 characters.
MAX_CERTIFICATE_DOMAIN = 64


def subnet_prefix(vpc_prefix: int, az_count: int) -> int:
    """Each subnet's prefix when `ec2.Vpc` splits the VPC evenly among tiers x AZs (tested)."""
    return 32 - math.floor(math.log2(2 ** (32 - vpc_prefix) / (SUBNET_TIERS * az_count)))
