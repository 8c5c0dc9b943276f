"""The EC2 instance role: Session Manager, its own logs, release artifacts, readiness check."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from constructs_lib.compliance import accept, decisions
from constructs_lib.storage import RELEASES_PREFIX

# Actions with no resource-level permissions in IAM: `*` is the only resource they accept.
SESSION_MANAGER_CHANNEL_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
]
TARGET_HEALTH_ACTIONS = ["elasticloadbalancing:DescribeTargetHealth"]
# Allowed on `*` only together with a cloudwatch:namespace condition.
AGENT_METRIC_ACTIONS = ["cloudwatch:PutMetricData"]


class InstanceRole(Construct):
    """Least privilege for the web tier's instances: every action named, every resource scoped."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        artifacts: s3.IBucket,
        key: kms.IKey,
        log_group: logs.ILogGroup,
        compute_stack_name: str,
        agent_metric_namespace: str,
    ):
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Web tier instances: Session Manager, logs, releases, readiness signal",
        )
        statements = [
            iam.PolicyStatement(
                sid="SessionManagerRegistersThisInstance",
                actions=["ssm:UpdateInstanceInformation"],
                resources=[stack.format_arn(service="ec2", resource="instance", resource_name="*")],
            ),
            iam.PolicyStatement(
                sid="SessionManagerChannels",
                actions=SESSION_MANAGER_CHANNEL_ACTIONS,
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="WriteOwnLogGroup",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn, f"{log_group.log_group_arn}:log-stream:*"],
            ),
            # The CloudWatch agent's memory and disk use. PutMetricData has no resource-level
            # permissions; the namespace condition keeps the instances out of every other one.
            iam.PolicyStatement(
                sid="AgentPutsMetricsInItsNamespaceOnly",
                actions=AGENT_METRIC_ACTIONS,
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": agent_metric_namespace}},
            ),
            # The boot script names the version it installs; with a version ID S3 asks for
            # s3:GetObjectVersion only, so an instance cannot fetch whatever the key holds now.
            iam.PolicyStatement(
                sid="ReadReleaseArtifacts",
                actions=["s3:GetObjectVersion"],
                resources=[artifacts.arn_for_objects(f"{RELEASES_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="ListReleaseArtifacts",
                actions=["s3:ListBucket"],
                resources=[artifacts.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{RELEASES_PREFIX}*"]}},
            ),
            iam.PolicyStatement(
                sid="DecryptReleaseArtifactsThroughS3",
                actions=["kms:Decrypt"],
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="ReadinessCheckReadsTargetHealth",
                actions=TARGET_HEALTH_ACTIONS,
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="SignalTheComputeStack",
                actions=["cloudformation:SignalResource"],
                resources=[
                    stack.format_arn(
                        service="cloudformation",
                        resource="stack",
                        resource_name=f"{compute_stack_name}/*",
                    )
                ],
            ),
        ]
        # A customer-managed policy rather than an inline one: reviewable and reusable on its own.
        iam.ManagedPolicy(
            self,
            "Policy",
            description="Web tier instances: Session Manager, logs, releases, readiness signal",
            statements=statements,
            roles=[self.role],
        )
        accept(self, decisions.INSTANCE_ACTIONS_WITHOUT_RESOURCES)
        accept(self, decisions.INSTANCES_REGISTER_WITH_SYSTEMS_MANAGER)
        accept(
            self,
            decisions.INSTANCE_LOG_STREAMS,
            log_group=stack.get_logical_id(_cfn(log_group)),
        )
        accept(
            self,
            decisions.INSTANCES_READ_RELEASES,
            bucket=stack.get_logical_id(_cfn(artifacts)),
            prefix=RELEASES_PREFIX,
        )
        accept(self, decisions.INSTANCES_SIGNAL_COMPUTE_STACK, stack=compute_stack_name)


def _cfn(resource: IConstruct) -> cdk.CfnResource:
    default_child = resource.node.default_child
    assert isinstance(default_child, cdk.CfnResource)
    return default_child
