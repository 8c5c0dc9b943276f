"""The environment's customer-managed KMS key, usable by the services that encrypt with it."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.config import EnvironmentConfig
from constructs_lib.conventions import acknowledge, log_retention, stateful_removal_policy
from constructs_lib.naming import SECURITY, WAF_LOG_PREFIX, Naming

AUTOSCALING_ROLE_PATH = "aws-service-role/autoscaling.amazonaws.com/"
AUTOSCALING_ROLE_NAME = "AWSServiceRoleForAutoScaling"
_HANDLER = Path(__file__).parent / "assets" / "ensure_service_linked_role.py"


def autoscaling_service_linked_role_arn(stack: cdk.Stack) -> str:
    return stack.format_arn(
        service="iam",
        region="",
        resource="role",
        resource_name=AUTOSCALING_ROLE_PATH + AUTOSCALING_ROLE_NAME,
    )


class ServiceLinkedRoleGuard(Construct):
    """A custom resource that creates AWSServiceRoleForAutoScaling if the account lacks it.

    `AWS::IAM::ServiceLinkedRole` fails when the role already exists, so it cannot be used in an
    account that ever had an Auto Scaling group; this function creates the role only when missing.
    """

    def __init__(self, scope: Construct, construct_id: str, *, retention: logs.RetentionDays):
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        role_arn = autoscaling_service_linked_role_arn(stack)

        # Not encrypted with the environment key: the key depends on this function (it must not
        # exist before the role does), so the key cannot protect the function's own log group.
        log_group = logs.LogGroup(
            self, "LogGroup", retention=retention, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Creates the Auto Scaling service-linked role when the account lacks it",
        )
        iam.ManagedPolicy(
            self,
            "Policy",
            description="Create AWSServiceRoleForAutoScaling if missing; write own logs",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadTheRole",
                    actions=["iam:GetRole"],
                    resources=[role_arn],
                ),
                iam.PolicyStatement(
                    sid="CreateOnlyTheAutoScalingServiceLinkedRole",
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=[role_arn],
                    conditions={
                        "StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}
                    },
                ),
                iam.PolicyStatement(
                    sid="WriteOwnLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                ),
            ],
        )
        function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            # Inline code: no asset to publish, nothing to build, and `cfnresponse` is provided.
            code=lambda_.Code.from_inline(_HANDLER.read_text()),
            timeout=cdk.Duration.minutes(1),
            role=self.role,
            log_group=log_group,
            description="Ensures AWSServiceRoleForAutoScaling exists before the KMS key names it",
        )
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=function.function_arn,
            resource_type="Custom::AutoScalingServiceLinkedRole",
        )
        # CloudFormation may invoke the function only once its permissions are in place.
        self.resource.node.add_dependency(self.role)

        acknowledge(
            log_group,
            "NIST.800.53.R5-CloudWatchLogGroupEncrypted",
            "the environment key depends on this function (the key policy names the role it "
            "creates), so the key cannot encrypt this log group; CloudWatch Logs still encrypts "
            "it at rest with an AWS-owned key, and it holds only the role check's output",
        )
        for rule, reason in (
            (
                "NIST.800.53.R5-LambdaInsideVPC",
                "calls only the global IAM API once per deploy; inside the VPC it would need "
                "ENI permissions on '*' and NAT egress for no gain",
            ),
            (
                "NIST.800.53.R5-LambdaConcurrency",
                "invoked only by CloudFormation, once per deploy of this stack; reserving "
                "concurrency would take capacity from the account's unreserved pool",
            ),
            (
                "NIST.800.53.R5-LambdaDLQ",
                "invoked synchronously by CloudFormation, which records every failure in the "
                "stack events and rolls back: there is no asynchronous event to lose",
            ),
        ):
            acknowledge(function, rule, reason)


def grants_only_for_aws_services(key: kms.Key) -> None:
    """Deny kms:CreateGrant unless AWS creates the grant for an AWS resource (CT.KMS.PR.3).

    EBS still gets its grants (Auto Scaling asks with kms:GrantIsForAWSResource=true); nobody
    can hand the key to an arbitrary principal through a grant.
    """
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="GrantsOnlyForAwsServices",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={
                "BoolIfExists": {
                    "kms:GrantIsForAWSResource": "false",
                    "aws:PrincipalIsAWSService": "false",
                }
            },
        )
    )


def allow_cloudwatch_logs(key: kms.Key, *, sid: str, log_group_names: list[str]) -> None:
    """Let CloudWatch Logs encrypt with `key`, for the named log groups (patterns) only."""
    stack = cdk.Stack.of(key)
    log_group_arns = [
        stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        for name in log_group_names
    ]
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        log_group_arns if len(log_group_arns) > 1 else log_group_arns[0]
                    )
                }
            },
        )
    )


class WorkloadKey(Construct):
    """A rotating customer-managed key for EBS volumes, log groups and the alarm topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: EnvironmentConfig,
        naming: Naming,
    ):
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        retention = log_retention(environment)

        self.key = kms.Key(
            self,
            "Key",
            description=f"EBS, logs and notifications of {naming.name(SECURITY)}",
            enable_key_rotation=True,
            alias=naming.kms_alias(SECURITY, "key"),
            removal_policy=stateful_removal_policy(environment),
            pending_window=cdk.Duration.days(30 if environment.is_production else 7),
        )

        if environment.ensure_service_linked_role:
            guard = ServiceLinkedRoleGuard(self, "AutoScalingRoleGuard", retention=retention)
            self.key.node.add_dependency(guard.resource)

        grants_only_for_aws_services(self.key)
        autoscaling_role = iam.ArnPrincipal(autoscaling_service_linked_role_arn(stack))
        # Without these, instances with encrypted volumes fail to launch (Client.InternalError).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AutoScalingUsesTheKeyForEbs",
                principals=[autoscaling_role],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                resources=["*"],
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AutoScalingAttachesEncryptedVolumes",
                principals=[autoscaling_role],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={"Bool": {"kms:GrantIsForAWSResource": True}},
            )
        )
        allow_cloudwatch_logs(
            self.key,
            sid="CloudWatchLogsEncryptsThisEnvironmentsLogGroups",
            log_group_names=[
                f"/{naming.environment}/{naming.project}/*",
                f"{WAF_LOG_PREFIX}{naming.environment}-{naming.project}-*",
            ],
        )
        # CloudWatch alarms publish to the encrypted alarm topic.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToTheEncryptedTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
