"""The delivery pipeline's parts: where artifacts live, how it builds, what CDK Pipelines needs."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from constructs_lib.compliance import accept, decisions
from constructs_lib.security import allow_cloudwatch_logs, grants_only_for_aws_services
from constructs_lib.storage import Buckets

# The image and the runtimes in it, pinned: CodeBuild otherwise picks each image's default, which
# moves when a version reaches end of life. Amazon Linux 2023 standard:5.0 offers Python 3.11 (what
# the lock files were resolved for) and Node.js 22 (what jsii needs).
BUILD_IMAGE = codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "22"}
# The newest cdk-assets; it reads cloud-assembly schema 54 at most, and this app writes 55. No step
# runs it today: the environments have no file or image asset besides their templates (a test in
# tests/test_pipeline.py fails as soon as one appears). Pinned so a release cannot change that.
CDK_ASSETS_VERSION = "4.7.3"
# Sized from a measurement of the synth step's command, `make pipeline-synth`: 1.4 GiB peak for the
# whole process tree (695 MiB in its largest process; the tree sampled every 50 ms, 2026-12-03),
# 244 s of CPU in 194 s on 2 cores. SMALL has 3 GiB and 2 vCPUs; most of the gate runs one process
# at a time, so more vCPUs buy little.
SYNTH_COMPUTE = codebuild.ComputeType.SMALL
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


@dataclass(frozen=True)
class ArtifactStore:
    key: kms.IKey
    bucket: s3.IBucket
    build_logs: logs.ILogGroup


def artifact_store(scope: Construct, *, project: str) -> ArtifactStore:
    """The pipeline's own artifact bucket, key and build log group, created in `scope`.

    Our own bucket, so it is versioned and access-logged like every other bucket; cross-account
    deploys need it encrypted with a customer-managed key. Every CodeBuild project of the pipeline
    logs into one group, encrypted and kept a year: Control Tower CT.CODEBUILD.PR.3 wants logging
    set on the project, not CodeBuild's implicit, never-expiring group.
    """
    kept = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
    key = kms.Key(
        scope,
        "ArtifactKey",
        description=f"Pipeline artifacts of {project}",
        enable_key_rotation=True,
        removal_policy=kept,
    )
    grants_only_for_aws_services(key)
    build_log_group_name = f"/aws/codebuild/{cdk.Stack.of(scope).stack_name}"
    build_logs = logs.LogGroup(
        scope,
        "BuildLogs",
        log_group_name=build_log_group_name,
        encryption_key=key,
        retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=kept,
    )
    allow_cloudwatch_logs(
        key, sid="CloudWatchLogsEncryptsBuildLogs", log_group_names=[build_log_group_name]
    )
    buckets = Buckets(
        scope,
        "Buckets",
        key=key,
        log_retention_days=ARTIFACT_RETENTION_DAYS,
        removal_policy=kept,
    )
    return ArtifactStore(key=key, bucket=buckets.artifacts, build_logs=build_logs)


def build_defaults(build_logs: logs.ILogGroup) -> pipelines.CodeBuildOptions:
    """Every CodeBuild project of the pipeline: pinned image and runtimes, one log group."""
    return pipelines.CodeBuildOptions(
        build_environment=codebuild.BuildEnvironment(
            build_image=BUILD_IMAGE, compute_type=SYNTH_COMPUTE
        ),
        partial_build_spec=codebuild.BuildSpec.from_object(
            {"phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}}
        ),
        logging=codebuild.LoggingOptions(
            cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=build_logs)
        ),
    )


def acknowledge_generated_grants(
    pipeline: pipelines.CodePipeline, artifact_bucket: s3.IBucket
) -> None:
    """Findings in the roles and policies CDK Pipelines writes itself, with no way to narrow.

    Each is the exact rule ID (granular where the rule has them), on the pipeline construct
    that owns the generated resources.
    """
    scope = pipeline
    stack = cdk.Stack.of(pipeline)
    for action in ARTIFACT_ACTION_GROUPS:
        accept(scope, decisions.PIPELINE_ARTIFACT_ACTION_GROUPS, action=action)
    bucket = artifact_bucket.node.default_child
    assert isinstance(bucket, cdk.CfnResource)
    accept(scope, decisions.PIPELINE_ARTIFACT_OBJECTS, bucket=stack.get_logical_id(bucket))
    for project in stack.node.find_all():
        if isinstance(project, codebuild.CfnProject):
            project_id = stack.get_logical_id(project)
            accept(scope, decisions.CODEBUILD_LOG_STREAMS, project=project_id)
            accept(scope, decisions.CODEBUILD_REPORT_GROUPS, project=project_id)
    accept(scope, decisions.SELF_MUTATION_ASSUMES_BOOTSTRAP_ROLES)
    accept(scope, decisions.SELF_MUTATION_RUN_TIME_TARGETS)
    accept(scope, decisions.PIPELINE_INLINE_POLICIES)


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
