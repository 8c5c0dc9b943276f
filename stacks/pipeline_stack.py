from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from constructs_lib.config import AppConfig, PipelineConfig
from constructs_lib.conventions import acknowledge
from constructs_lib.encryption import allow_cloudwatch_logs, grants_only_for_aws_services
from constructs_lib.storage import Buckets
from stacks.web_tier_stage import WebTierStage

# The synth step runs the repository's own target: changing what it does rarely changes the
# pipeline, and a broken synth step cannot repair itself (self-mutation runs after synth).
SYNTH_COMMANDS = ["make pipeline-synth"]
# The image and the runtimes in it, pinned: CodeBuild otherwise picks each image's default, which
# moves when a version reaches end of life. Amazon Linux 2023 standard:5.0 offers Python 3.11 (what
# the lock files were resolved for) and Node.js 22 (what jsii needs; FACTS.md).
BUILD_IMAGE = codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "22"}
# The newest cdk-assets; it reads cloud-assembly schema 54 at most, and this app writes 55. No step
# runs it today: the environments have no file or image asset besides their templates (a test in
# tests/test_pipeline.py fails as soon as one appears). Pinned so a release cannot change that.
CDK_ASSETS_VERSION = "4.7.3"
# Sized from a measurement of the synth step's command (README, "Pipeline"): MEDIUM has 7 GiB and
# 4 vCPUs.
SYNTH_COMPUTE = codebuild.ComputeType.MEDIUM
SMOKE_TEST = "bash tools/smoke_test.sh"
ARTIFACT_RETENTION_DAYS = 90
# Action groups CDK Pipelines' grant helpers put into its roles' policies.
ARTIFACT_ACTION_GROUPS = (
    "s3:Abort*",
    "s3:DeleteObject*",
    "s3:GetBucket*",
    "s3:GetObject*",
    "s3:List*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
)


class PipelineStack(cdk.Stack):
    """A self-mutating CDK pipeline that rolls every configured environment out in order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        pipeline_config: PipelineConfig,
        stages: Mapping[str, WebTierStage],
        cli_version: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source = pipelines.CodePipelineSource.connection(
            pipeline_config.repository,
            pipeline_config.branch,
            connection_arn=pipeline_config.connection_arn,
        )
        # Our own artifact bucket, so it is versioned and access-logged like every other bucket;
        # cross-account deploys need it encrypted with a customer-managed key.
        self.artifact_key = kms.Key(
            self,
            "ArtifactKey",
            description=f"Pipeline artifacts of {config.project}",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        grants_only_for_aws_services(self.artifact_key)
        # Every CodeBuild project of the pipeline logs here, encrypted and kept a year: Control
        # Tower CT.CODEBUILD.PR.3 wants logging set on the project, not CodeBuild's implicit,
        # never-expiring group.
        build_log_group_name = f"/aws/codebuild/{self.stack_name}"
        build_logs = logs.LogGroup(
            self,
            "BuildLogs",
            log_group_name=build_log_group_name,
            encryption_key=self.artifact_key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        allow_cloudwatch_logs(
            self.artifact_key,
            sid="CloudWatchLogsEncryptsBuildLogs",
            log_group_names=[build_log_group_name],
        )
        buckets = Buckets(
            self,
            "Buckets",
            key=self.artifact_key,
            log_retention_days=ARTIFACT_RETENTION_DAYS,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            artifact_bucket=buckets.artifacts,
            synth=pipelines.ShellStep(
                "Synth",
                input=source,
                commands=SYNTH_COMMANDS,
                primary_output_directory="cdk.out",
            ),
            self_mutation=True,
            # The CLI developers use (package.json), for self-mutation and asset publishing.
            cli_version=cli_version,
            cdk_assets_cli_version=CDK_ASSETS_VERSION,
            # Deploys into other accounts: artifacts are encrypted with a rotating CMK.
            cross_account_keys=True,
            enable_key_rotation=True,
            docker_enabled_for_synth=False,
            docker_enabled_for_self_mutation=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=BUILD_IMAGE, compute_type=SYNTH_COMPUTE
                ),
                partial_build_spec=codebuild.BuildSpec.from_object(
                    {"phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}}
                ),
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=build_logs)
                ),
            ),
        )

        # The very stages `cdk deploy` selects (built once, under the App): the pipeline deploys
        # the same stack names and templates, and the assembly holds each environment once.
        self.stages = {name: stages[name] for names in pipeline_config.waves for name in names}
        for names in pipeline_config.waves:
            deployments = [
                self._deployment(stages[name], pipeline_config, source) for name in names
            ]
            if len(deployments) == 1:
                stage, pre, post = deployments[0]
                self.pipeline.add_stage(stage, pre=pre, post=post)
            else:
                wave = self.pipeline.add_wave("And".join(s.node.id for s, _, _ in deployments))
                for stage, pre, post in deployments:
                    wave.add_stage(stage, pre=pre, post=post)
        # Built now, not lazily at synth, so that its parts exist for the changes below.
        self.pipeline.build_pipeline()
        use_connection_under_its_own_prefix(self.pipeline, pipeline_config.connection_arn)
        self._acknowledge_what_cdk_pipelines_generates(buckets.artifacts)

    def _deployment(
        self,
        stage: WebTierStage,
        pipeline_config: PipelineConfig,
        source: pipelines.CodePipelineSource,
    ) -> tuple[WebTierStage, list[pipelines.Step], list[pipelines.Step]]:
        environment = stage.environment
        pre: list[pipelines.Step] = []
        if environment.name in pipeline_config.manual_approval:
            pre.append(pipelines.ManualApprovalStep(f"Approve{stage.node.id}"))
        smoke_test = pipelines.ShellStep(
            f"SmokeTest{stage.node.id}",
            input=source,
            env_from_cfn_outputs={"HEALTH_CHECK_URL": stage.compute.health_check_url},
            commands=[f'{SMOKE_TEST} "$HEALTH_CHECK_URL"'],
        )
        return stage, pre, [smoke_test]

    def _acknowledge_what_cdk_pipelines_generates(self, artifact_bucket: s3.IBucket) -> None:
        """Findings in the roles and policies CDK Pipelines writes itself, with no way to narrow.

        Each is the exact rule ID (granular where the rule has them), on the pipeline construct
        that owns the generated resources.
        """
        scope = self.pipeline
        for action in ARTIFACT_ACTION_GROUPS:
            acknowledge(
                scope,
                f"AwsSolutions-IAM5[Action::{action}]",
                "CDK Pipelines grants its roles the artifact bucket and key through grant helpers "
                "that use these action groups; it offers no way to narrow them",
            )
        bucket = artifact_bucket.node.default_child
        assert isinstance(bucket, cdk.CfnResource)
        acknowledge(
            scope,
            f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(bucket)}.Arn>/*]",
            "objects of the pipeline's own artifact bucket, whose keys CodePipeline generates "
            "per execution",
        )
        prefix = f"arn:aws:{{service}}:{self.region}:{self.account}"
        logs = prefix.format(service="logs") + ":log-group:/aws/codebuild/"
        reports = prefix.format(service="codebuild") + ":report-group/"
        for project in self.node.find_all():
            if isinstance(project, codebuild.CfnProject):
                project_id = self.get_logical_id(project)
                acknowledge(
                    scope,
                    f"AwsSolutions-IAM5[Resource::{logs}<{project_id}>:*]",
                    "the log streams CodeBuild creates per build inside this project's own log "
                    "group; CDK Pipelines writes this grant",
                )
                acknowledge(
                    scope,
                    f"AwsSolutions-IAM5[Resource::{reports}<{project_id}>-*]",
                    "the test report groups CodeBuild names after this project; CDK Pipelines "
                    "writes this grant",
                )
        acknowledge(
            scope,
            f"AwsSolutions-IAM5[Resource::{logs}*]",
            "the asset-publishing projects CDK Pipelines creates on demand log to groups named "
            "after projects that do not exist when the role is written",
        )
        acknowledge(
            scope,
            f"AwsSolutions-IAM5[Resource::{reports}*]",
            "the asset-publishing projects CDK Pipelines creates on demand report to groups "
            "named after projects that do not exist when the role is written",
        )
        acknowledge(
            scope,
            f"AwsSolutions-IAM5[Resource::arn:*:iam::{self.account}:role/*]",
            "self-mutation assumes the CDK bootstrap roles of the pipeline account, which CDK "
            "Pipelines matches by name pattern (their qualifier is chosen at bootstrap)",
        )
        acknowledge(
            scope,
            "AwsSolutions-IAM5[Resource::*]",
            "self-mutation and asset publishing call cloudformation:DescribeStacks and "
            "sts:AssumeRole on targets CDK Pipelines only knows at run time",
        )
        acknowledge(
            scope,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CDK Pipelines writes its roles' grants as inline default policies and exposes no "
            "option for managed ones; the roles serve only this pipeline",
        )


def use_connection_under_its_own_prefix(
    pipeline: pipelines.CodePipeline, connection_arn: str
) -> None:
    """Grant `UseConnection` under the service prefix of the connection's own ARN.

    aws-cdk-lib grants `codestar-connections:UseConnection` whatever the ARN; a connection created
    since the rename is `arn:aws:codeconnections:...`, and IAM matches the action's prefix against
    the resource's ("the service prefix needs to match that of the resource"), so the source action
    would be denied on the first run. cfn-lint's I3510 reports the mismatch.
    """
    action = f"{connection_arn.split(':')[2]}:UseConnection"
    rewritten = 0
    for policy in pipeline.pipeline.node.find_all():
        if not isinstance(policy, iam.CfnPolicy):
            continue
        document = cdk.Stack.of(policy).resolve(policy.policy_document)
        for index, statement in enumerate(document["Statement"]):
            if statement["Action"] == "codestar-connections:UseConnection":
                policy.add_property_override(f"PolicyDocument.Statement.{index}.Action", action)
                rewritten += 1
    if rewritten != 1:
        raise AssertionError(f"expected one UseConnection grant in the pipeline, found {rewritten}")
