from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_lib.config import EnvironmentConfig
from constructs_lib.network import Network


class NetworkStack(cdk.Stack):
    """The VPC every other stack of the environment lives in."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: EnvironmentConfig,
        **kwargs: Any,
    ) -> None:
        self._availability_zones = list(environment.availability_zones)
        super().__init__(scope, construct_id, **kwargs)
        network = Network(
            self,
            "Network",
            section=environment.network,
            availability_zones=environment.availability_zones,
            log_retention_days=environment.log_retention_days,
        )
        self.vpc: ec2.IVpc = network.vpc

        cdk.CfnOutput(
            self, "VpcId", value=self.vpc.vpc_id, description="The VPC of this environment"
        )

    @property
    def availability_zones(self) -> list[str]:
        # The configured AZs, never a lookup: ec2.Vpc checks its AZs against the stack's, and the
        # default getter would ask the account for them (credentials and network at synth time).
        return self._availability_zones
