"""VPC flow logs of all traffic, delivered by a role whose only policy is a managed one."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct


class FlowLogs(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, log_group: logs.ILogGroup
    ):
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "Role",
            # Confused-deputy protection as the VPC docs recommend for this role's trust
            # (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html): only flow
            # logs of this account assume it. The flow log's ID is unknown until it exists, and it
            # names this role, so the ARN takes the wildcard the docs allow for that case.
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="ec2", resource="vpc-flow-log", resource_name="*"
                        )
                    },
                },
            ),
            description="VPC flow logs delivery to their log group",
        )
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Deliver VPC flow logs to their log group",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="DeliverToTheFlowLogGroup",
                    actions=[
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    resources=[log_group.log_group_arn],
                ),
            ],
        )
        self.flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(vpc),
            # The policy above is all the role gets: CDK would otherwise add an inline one.
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                log_group, role.without_policy_updates()
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        # Created in parallel with the role's policy otherwise: the first deliveries would fail
        # ("Access error") until the policy exists.
        self.flow_log.node.add_dependency(policy)
