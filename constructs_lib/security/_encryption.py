"""The environment's customer-managed KMS key, usable by the services that encrypt with it."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.core import log_retention, stateful_removal_policy
from constructs_lib.handlers import InlineCustomResource
from constructs_lib.security._config import SecuritySection

AUTOSCALING_ROLE_PATH = "aws-service-role/autoscaling.amazonaws.com/"
AUTOSCALING_ROLE_NAME = "AWSServiceRoleForAutoScaling"


def autoscaling_service_linked_role_arn(stack: cdk.Stack) -> str:
    return stack.format_arn(
        service="iam",
        region="",
        resource="role",
        resource_name=AUTOSCALING_ROLE_PATH + AUTOSCALING_ROLE_NAME,
    )


def service_linked_role_guard(
    scope: Construct, construct_id: str, *, retention: logs.RetentionDays
) -> InlineCustomResource:
    """A custom resource that creates AWSServiceRoleForAutoScaling if the account lacks it.

    `AWS::IAM::ServiceLinkedRole` fails when the role already exists, so it cannot be used in an
    account that ever had an Auto Scaling group; this handler creates the role only when missing.
    """
    role_arn = autoscaling_service_linked_role_arn(cdk.Stack.of(scope))
    return InlineCustomResource(
        scope,
        construct_id,
        handler="ensure_service_linked_role.py",
        resource_type="Custom::AutoScalingServiceLinkedRole",
        description="Creates the Auto Scaling service-linked role when the account lacks it",
        retention=retention,
        # Its worst case (retries while IAM applies the policy, the wait for a new role to become
        # a usable KMS principal, boto3's own retries, a cold start) is close to a minute: a
        # function cut off at its timeout answers nothing, and the stack waits out the service
        # timeout before it rolls back.
        timeout=cdk.Duration.minutes(3),
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
                conditions={"StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}},
            ),
        ],
    )


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
    """A rotating customer-managed key for EBS volumes, log groups and the notification topics."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        log_group_name_patterns: Sequence[str],
        is_production: bool,
        section: SecuritySection,
        log_retention_days: int,
    ):
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        retention = log_retention(log_retention_days)

        self.key = kms.Key(
            self,
            "Key",
            description=description,
            enable_key_rotation=True,
            alias=alias,
            removal_policy=stateful_removal_policy(is_production=is_production),
            pending_window=cdk.Duration.days(30 if is_production else 7),
        )

        if section.ensure_service_linked_role:
            guard = service_linked_role_guard(self, "AutoScalingRoleGuard", retention=retention)
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
            log_group_names=list(log_group_name_patterns),
        )
        # CloudWatch alarms publish to the encrypted topics.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToTheEncryptedTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                # No condition, as the SNS guide writes this statement ("Enable compatibility
                # between event sources from AWS services and encrypted topics"): SNS, not
                # CloudWatch, calls KMS here, and no AWS page says those calls carry
                # aws:SourceAccount or aws:SourceArn; a condition they lack would silently drop
                # every notification. The topic policies admit only this environment's alarms.
            )
        )
