from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.config import AppConfig, EnvironmentConfig
from constructs_lib.conventions import apply_mandatory_tags, apply_name_tags
from constructs_lib.naming import NETWORK
from stacks.network_stack import NetworkStack


class WebTierStage(cdk.Stage):
    """One environment: network -> security -> compute.

    `cdk deploy` of one environment and every pipeline stage build this same class, so environments
    differ only in their configuration.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        environment: EnvironmentConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=environment.account, region=environment.region),
            **kwargs,
        )
        naming = config.naming(environment)

        def stack_props(component: str, description: str) -> dict[str, Any]:
            # An explicit stack name, or the stage would prefix it with its own ID.
            return {
                "stack_name": naming.stack_name(component),
                "description": f"{description} ({naming.stack_name(component)})",
                "termination_protection": environment.is_production,
            }

        self.network = NetworkStack(
            self,
            "Network",
            environment=environment,
            **stack_props(NETWORK, "VPC, subnets, NAT gateways and endpoints"),
        )

        for stack, component in ((self.network, NETWORK),):
            apply_name_tags(stack, naming=naming, component=component)
        apply_mandatory_tags(
            self, naming=naming, owner=config.owner, cost_center=config.cost_center
        )

    @staticmethod
    def construct_id(environment: EnvironmentConfig) -> str:
        """The stage ID: it names the cloud-assembly folder and pipeline stage, not resources."""
        return environment.name.title().replace("-", "")
