"""Buckets: the release artifacts instances install, and the access logs of S3 and the ALB."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.compliance import accept, decisions
from constructs_lib.handlers import InlineCustomResource

RELEASES_PREFIX = "releases/"
LOAD_BALANCER_LOGS_PREFIX = "load-balancer"
ARTIFACT_ACCESS_LOGS_PREFIX = "artifacts/"


class Buckets(Construct):
    """A KMS-encrypted artifact bucket and the SSE-S3 bucket that receives its access logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ):
        super().__init__(scope, construct_id)

        # SSE-S3, not KMS: neither S3 server access logging nor ALB access logs can write to a
        # bucket encrypted with a customer-managed key.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=cdk.Duration.days(log_retention_days),
                    noncurrent_version_expiration=cdk.Duration.days(1),
                )
            ],
        )
        accept(self.access_logs, decisions.ACCESS_LOG_BUCKET_SSE_S3)
        self.artifacts = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            removal_policy=removal_policy,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=ARTIFACT_ACCESS_LOGS_PREFIX,
            # Versioning keeps every replaced object: keep the last few, expire the rest.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireReplacedVersions",
                    noncurrent_version_expiration=cdk.Duration.days(90),
                    noncurrent_versions_to_retain=3,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
        )
        self.buckets = (self.access_logs, self.artifacts)
        accept(self.access_logs, decisions.ACCESS_LOG_BUCKET_NOT_LOGGED)
        for bucket in self.buckets:
            for decision in (
                decisions.BUCKETS_WITHOUT_EVENT_NOTIFICATIONS,
                decisions.BUCKETS_WITHOUT_OBJECT_LOCK,
                decisions.SINGLE_REGION_BUCKETS,
            ):
                accept(bucket, decision)

    def empty_on_delete(self, *, retention: logs.RetentionDays) -> None:
        """Empty both buckets when the stack is deleted, so that they can be deleted with it.

        Only for buckets with a DESTROY removal policy: the access-log bucket receives logs all the
        time, and CloudFormation cannot delete a bucket that holds objects.
        """
        handler = InlineCustomResource(
            self,
            "EmptyOnDelete",
            handler="empty_buckets_on_delete.py",
            resource_type="Custom::EmptyBucketsOnDelete",
            description="Empties this environment's buckets when its stack is deleted",
            retention=retention,
            timeout=cdk.Duration.minutes(15),
            properties={"BucketNames": [b.bucket_name for b in self.buckets]},
            statements=[
                iam.PolicyStatement(
                    sid="ListEveryVersion",
                    actions=["s3:ListBucket", "s3:ListBucketVersions"],
                    resources=[b.bucket_arn for b in self.buckets],
                ),
                iam.PolicyStatement(
                    sid="DeleteEveryVersion",
                    actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                    resources=[b.arn_for_objects("*") for b in self.buckets],
                ),
                # CloudFormation also sends Delete when only this resource goes away; the
                # handler empties the buckets only while the stack itself goes away.
                iam.PolicyStatement(
                    sid="ReadOwnStackStatus",
                    actions=["cloudformation:DescribeStacks"],
                    resources=[cdk.Stack.of(self).stack_id],
                ),
            ],
        )
        stack = cdk.Stack.of(self)
        for bucket in self.buckets:
            # Deleted before the handler empties the bucket: without its policy's grants, neither
            # S3 server access logging nor the load balancer can deliver into it any more.
            assert bucket.policy is not None
            bucket.policy.node.add_dependency(handler.resource)
            resource = bucket.node.default_child
            assert isinstance(resource, cdk.CfnResource)
            accept(
                handler.policy,
                decisions.EMPTY_BUCKETS_ON_DELETE,
                bucket=stack.get_logical_id(resource),
            )
