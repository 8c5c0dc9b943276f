"""The `network` section of an environment: the VPC's range, its egress and its endpoints."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, Field

from constructs_lib.core import (
    LARGEST_SUBNET_PREFIX,
    SUBNET_TIERS,
    Placement,
    Problem,
    Problems,
    Section,
    emulator_switch,
    subnet_prefix,
)

_PRIVATE_RANGES = [
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
]


def _vpc_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError("expected an IPv4 CIDR block such as 10.0.0.0/16") from None
    if not any(network.subnet_of(private) for private in _PRIVATE_RANGES):
        raise ValueError("expected a private (RFC 1918) range: 10/8, 172.16/12, 192.168/16")
    if not 16 <= network.prefixlen <= 28:
        raise ValueError("VPC prefix must be /16 to /28")
    return value


class NetworkSection(Section):
    """The VPC: its range, NAT gateways (or none: AWS-only egress) and interface endpoints."""

    vpc_cidr: Annotated[str, AfterValidator(_vpc_cidr)] = Field(
        description="a private (RFC 1918) /16 to /28 range"
    )
    # 0 is the AWS-only egress mode: the app tier has no route to the internet.
    nat_gateways: int = Field(
        ge=0, description="0 (AWS-only egress) to the number of availabilityZones"
    )
    interface_endpoints: bool = Field(
        True, description="interface endpoints for the AWS APIs the instances call (SSM, logs, ...)"
    )
    restrict_default_security_group: bool = Field(
        True, description="strip every rule from the VPC's default security group"
    )

    @property
    def aws_only_egress(self) -> bool:
        """No NAT: the app tier reaches AWS through endpoints only, and nothing else."""
        return self.nat_gateways == 0

    def problems(self, placement: Placement) -> Problems:
        at, azs = f"{placement.path}.network", len(placement.availability_zones)
        if self.nat_gateways > azs:
            allowed = f"expected 0 to {azs}: one per AZ for availability, fewer to save cost"
            yield Problem(f"{at}.natGateways", self.nat_gateways, allowed)
        if self.aws_only_egress and not self.interface_endpoints:
            allowed = "natGateways 0 with interfaceEndpoints false is not allowed: without NAT, "
            allowed += "instances reach AWS APIs (SSM, CloudFormation, ELB) only through endpoints"
            yield Problem(f"{at}.natGateways", 0, allowed)
        prefix = subnet_prefix(ipaddress.IPv4Network(self.vpc_cidr).prefixlen, azs)
        if prefix > LARGEST_SUBNET_PREFIX:
            allowed = f"too small for {SUBNET_TIERS} tiers x {azs} AZs: each subnet would be "
            allowed += f"/{prefix}, an ALB needs at least /{LARGEST_SUBNET_PREFIX}"
            yield Problem(f"{at}.vpcCidr", self.vpc_cidr, allowed)
        yield from emulator_switch(
            placement,
            f"{at}.restrictDefaultSecurityGroup",
            self.restrict_default_security_group,
            "the VPC's default security group keeps its allow-all rules",
        )
