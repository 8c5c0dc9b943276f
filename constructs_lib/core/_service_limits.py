"""What AWS accepts, as this app relies on it: the limits the config validates against, and the
values the constructs build with (log retentions), so that no construct imports
the config module for an AWS fact."""

from __future__ import annotations

import math
import re
from typing import Literal, get_args

# The retentions CloudWatch Logs accepts, ascending.
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
]  # fmt: skip
LOG_RETENTION_DAYS: tuple[int, ...] = get_args(LogRetentionDays)
# Availability-zone letters per commercial region, as of 2026-11 (the AWS Regions and Zones page).
# Letters map to physical zones per account, and a few regions show each account a subset (e.g.
# us-west-1: two of a-c; ap-northeast-1: a, c, d for accounts made since 2012): this is the union,
# so a letter outside it names no zone of the region in any account. A region missing here is an
# error that asks for its row: config checks zones offline, with no lookup at synth.
AVAILABILITY_ZONE_LETTERS = {
    "us-east-1": "abcdef", "us-east-2": "abc", "us-west-1": "abc", "us-west-2": "abcd",
    "ca-central-1": "abd", "ca-west-1": "abc", "mx-central-1": "abc", "sa-east-1": "abc",
    "eu-west-1": "abc", "eu-west-2": "abc", "eu-west-3": "abc", "eu-central-1": "abc",
    "eu-central-2": "abc", "eu-north-1": "abc", "eu-south-1": "abc", "eu-south-2": "abc",
    "il-central-1": "abc", "me-south-1": "abc", "me-central-1": "abc", "af-south-1": "abc",
    "ap-south-1": "abc", "ap-south-2": "abc", "ap-east-1": "abc", "ap-northeast-1": "abcd",
    "ap-northeast-2": "abcd", "ap-northeast-3": "abc", "ap-southeast-1": "abc",
    "ap-southeast-2": "abc", "ap-southeast-3": "abc", "ap-southeast-4": "abc",
    "ap-southeast-5": "abc", "ap-southeast-7": "abc",
}  # fmt: skip
# The processor architectures of EC2 instance types and their AMIs.
Architecture = Literal["x86_64", "arm64"]
# Graviton types carry a `g` right after the generation (m7g, c7gn, t4g, r8gd, x2gd, im4gn,
# g5g); `a1` is the first Graviton. Every other family (m7i, c6a, g5, p4d, ...) is x86_64.
_ARM64_FAMILY = re.compile(r"a1|[a-z]+\d+g[a-z]*")


def instance_architecture(instance_type: str) -> Architecture:
    """The architecture an instance type runs, from its family (the part before the dot)."""
    return "arm64" if _ARM64_FAMILY.fullmatch(instance_type.split(".")[0]) else "x86_64"


SUBNET_TIERS = 3  # this app's layout (constructs_lib/network/_vpc.py): public, private, isolated
LARGEST_SUBNET_PREFIX = 27  # an Application Load Balancer needs 8 free addresses per subnet
# The fleet's target-tracking CPU (constructs_lib/fleet/_group.py builds with it; a test holds
# the two equal) and the CPU the survivors of a lost AZ may reach before any scale-out: above
# it, p99 latency climbs steeply and the 5 s health checks start to fail, which would take healthy
# instances out of the AZs that remain (config: lost_az_problems).
FLEET_CPU_TARGET_PERCENT = 60
LOST_AZ_CPU_CEILING_PERCENT = 90
# ACM puts the domain into the certificate's Common Name, which RFC 5280 limits to 64 characters.
MAX_CERTIFICATE_DOMAIN = 64


def subnet_prefix(vpc_prefix: int, az_count: int) -> int:
    """Each subnet's prefix when `ec2.Vpc` splits the VPC evenly among tiers x AZs (tested)."""
    return 32 - math.floor(math.log2(2 ** (32 - vpc_prefix) / (SUBNET_TIERS * az_count)))
