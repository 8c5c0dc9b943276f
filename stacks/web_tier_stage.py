from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.config import AppConfig, EnvironmentConfig
from constructs_lib.core import (
    COMPUTE,
    NETWORK,
    SECURITY,
    apply_mandatory_tags,
    apply_name_tags,
    mandatory_tags,
)
from stacks.compute_stack import ComputeStack
from stacks.network_stack import NetworkStack
from stacks.security_stack import SecurityStack


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

        self.security = SecurityStack(
            self,
            "Security",
            vpc=self.network.vpc,
            environment=environment,
            naming=naming,
            allow_lookups=config.lookups,
            **stack_props(SECURITY, "KMS key, flow logs, security groups, instance role, buckets"),
        )
        self.compute = ComputeStack(
            self,
            "Compute",
            vpc=self.network.vpc,
            web_security_group=self.security.web_security_group,
            app_security_group=self.security.app_security_group,
            instance_role=self.security.instance_role,
            key=self.security.key,
            artifact_bucket=self.security.artifact_bucket,
            access_log_bucket=self.security.access_log_bucket,
            environment=environment,
            naming=naming,
            **stack_props(COMPUTE, "Load balancer, instance fleet and alarms"),
        )

        self.environment = environment
        self.stacks: dict[str, cdk.Stack] = {
            NETWORK: self.network,
            SECURITY: self.security,
            COMPUTE: self.compute,
        }
        tags = mandatory_tags(naming, owner=config.owner, cost_center=config.cost_center)
        apply_mandatory_tags(self, tags)
        for component, stack in self.stacks.items():
            apply_name_tags(stack, naming=naming, component=component)

    @staticmethod
    def construct_id(environment: EnvironmentConfig) -> str:
        """The stage ID: it names the cloud-assembly folder and pipeline stage, not resources."""
        return environment.name.title().replace("-", "")
