"""Deploy-time custom resources whose small Python handlers live inline in the template.

Inline, not an asset: CDK Pipelines publishes file assets with the `cdk-assets` tool, and no
release of it reads the cloud-assembly schema this aws-cdk-lib writes (cdk-assets 4.7.3 stops at
schema 54: "Maximum schema version supported is 54.x.x, but found 55.0.0"). With inline handlers
the environments have no asset besides their templates, which the pipeline deploys from its own
artifact, so no asset-publishing step runs at all (tests/test_pipeline.py holds that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.compliance import accept, decisions

# Each handler is a module of this package, inlined into the template as its text.
HANDLERS = Path(__file__).parent


class InlineCustomResource(Construct):
    """One custom resource, its function, a role that may do exactly `statements`, its logs.

    The resource waits for the role *and* its policy: CloudFormation creates a role's policies and
    the function in parallel, and an invocation before the policy exists is denied, reports FAILED
    and rolls the stack back.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        resource_type: str,
        description: str,
        statements: Sequence[iam.PolicyStatement],
        retention: logs.RetentionDays,
        properties: Mapping[str, Any] | None = None,
        timeout: cdk.Duration | None = None,
    ):
        super().__init__(scope, construct_id)
        timeout = timeout or cdk.Duration.minutes(5)
        # Not encrypted with the environment key: decisions.HANDLER_LOG_GROUP says why.
        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=retention, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"{description}; write own logs",
            roles=[self.role],
            statements=[
                *statements,
                iam.PolicyStatement(
                    sid="WriteOwnLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                ),
            ],
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            # Inline code: no asset to publish, nothing to build, and `cfnresponse` is provided.
            code=lambda_.Code.from_inline((HANDLERS / handler).read_text()),
            timeout=timeout,
            role=self.role,
            log_group=self.log_group,
            description=description,
        )
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=resource_type,
            properties=dict(properties or {}),
            # CloudFormation waits an hour for a handler that never answered (a Lambda timeout,
            # say); a minute past the function's own timeout is long enough.
            service_timeout=timeout.plus(cdk.Duration.minutes(1)),
        )
        self.resource.node.add_dependency(self.role, self.policy)

        accept(self.log_group, decisions.HANDLER_LOG_GROUP)
        for decision in (
            decisions.HANDLER_OUTSIDE_VPC,
            decisions.HANDLER_UNRESERVED_CONCURRENCY,
            decisions.HANDLER_WITHOUT_DEAD_LETTER_QUEUE,
        ):
            accept(self.function, decision)
