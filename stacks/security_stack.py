from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.config import EnvironmentConfig
from constructs_lib.core import (
    COMPUTE,
    SECURITY,
    Naming,
    environment_log_group,
    log_retention,
    stateful_removal_policy,
)
from constructs_lib.network import FlowLogs, s3_prefix_list
from constructs_lib.security import InstanceRole, TierSecurityGroups, WorkloadKey
from constructs_lib.storage import Buckets


class SecurityStack(cdk.Stack):
    """Key, flow logs, security groups of every tier, the instance role and the buckets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        environment: EnvironmentConfig,
        naming: Naming,
        allow_lookups: bool = False,
        **kwargs: Any,
    ) -> None:
        """`allow_lookups`: leave values missing from cdk.context.json to the CDK CLI to look up
        (`make context`) instead of raising MissingLookupError."""
        super().__init__(scope, construct_id, **kwargs)
        retention_days = environment.log_retention_days
        is_production = environment.is_production

        self.key: kms.IKey = WorkloadKey(
            self,
            "Encryption",
            alias=naming.key_alias(),
            description=f"EBS, logs and notifications of {naming.name(SECURITY)}",
            log_group_name_patterns=naming.log_group_name_patterns(),
            is_production=is_production,
            section=environment.security,
            log_retention_days=retention_days,
        ).key

        flow_log_group = environment_log_group(
            self,
            "FlowLogGroup",
            name=naming.flow_log_group_name(),
            key=self.key,
            retention_days=retention_days,
            is_production=is_production,
        )
        FlowLogs(self, "FlowLogs", vpc=vpc, log_group=flow_log_group)

        groups = TierSecurityGroups(
            self,
            "SecurityGroups",
            vpc=vpc,
            serves_https=environment.edge.serves_https,
            app_port=environment.fleet.app_port,
            section=environment.security,
            vpc_cidr=environment.network.vpc_cidr,
            s3_prefix_list=(
                s3_prefix_list(self, "S3PrefixList", allow_lookups=allow_lookups)
                if environment.network.aws_only_egress
                else None
            ),
        )
        self.web_security_group = groups.read_only(groups.web)
        self.app_security_group = groups.read_only(groups.app)
        self.db_security_group = groups.read_only(groups.db)

        buckets = Buckets(
            self,
            "Buckets",
            key=self.key,
            log_retention_days=retention_days,
            removal_policy=stateful_removal_policy(is_production=is_production),
        )
        if environment.empties_buckets_on_delete:
            buckets.empty_on_delete(retention=log_retention(retention_days))
        self.artifact_bucket: s3.IBucket = buckets.artifacts
        self.access_log_bucket: s3.IBucket = buckets.access_logs

        self.instance_log_group: logs.ILogGroup = environment_log_group(
            self,
            "InstanceLogGroup",
            name=naming.instance_log_group_name(),
            key=self.key,
            retention_days=retention_days,
            is_production=is_production,
        )
        instance_role = InstanceRole(
            self,
            "InstanceRole",
            artifacts=buckets.artifacts,
            key=self.key,
            log_group=self.instance_log_group,
            compute_stack_name=naming.stack_name(COMPUTE),
            agent_metric_namespace=naming.agent_metric_namespace(),
        )
        # Consumers get the role, not the right to widen it: CDK would otherwise add grants here
        # from the compute stack (the ASG's own SignalResource grant, scoped to the wrong stack).
        self.instance_role: iam.IRole = instance_role.role.without_policy_updates()

        cdk.CfnOutput(self, "KeyArn", value=self.key.key_arn)
        cdk.CfnOutput(
            self,
            "ArtifactBucketName",
            value=buckets.artifacts.bucket_name,
            description="Upload releases under releases/ here",
        )
