"""cfn-guard with the AWS Control Tower proactive-control rules, as a CDK validation plugin.

`cdklabs-cdk-validator-cfnguard` runs its bundled cfn-guard over every template at synth, next to
cdk-nag: an unacknowledged finding fails `cdk synth` like a cdk-nag one and lands in
cdk.out/validation-report.json. Its findings are acknowledged like cdk-nag's, on the construct of
the failing resource, so the exceptions below apply to those resources only and a finding on any
other resource still fails synth.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator
from constructs import IConstruct

# aws-cdk-lib scopes each acknowledgment to a plugin by its name: `<plugin name>::<rule name>`.
PLUGIN = "cdk-validator-cfnguard"
ANY_ROOT = "*"


@dataclass(frozen=True)
class GuardException:
    """One Control Tower rule accepted on the listed resources, and why.

    `rule` is the name cfn-guard reports. A path starts with the construct ID of an environment's
    stage (`Dev`), or `*` for every stage and the pipeline stack; the rest is the construct path
    below it. A stage is deployed twice over (on its own and inside the pipeline stack), and a path
    covers both.
    """

    rule: str
    control: str
    reason: str
    paths: tuple[str, ...]


# `local` has no service-linked-role guard: its emulator cannot run the guard's Lambda function.
NON_PROD_LOG_GROUPS = (
    *(
        f"{stage}/{path}"
        for stage in ("Dev", "Local", "Staging")
        for path in (
            "Security/FlowLogGroup/Resource",
            "Security/InstanceLogGroup/Resource",
            "Compute/Web/WebAcl/LogGroup/Resource",
        )
    ),
    "Dev/Security/Encryption/AutoScalingRoleGuard/LogGroup/Resource",
    "Staging/Security/Encryption/AutoScalingRoleGuard/LogGroup/Resource",
)

EXCEPTIONS = (
    GuardException(
        rule="cloudwatch_log_group_retention_period_check",
        control="CT.CLOUDWATCH.PR.2 log groups retained for at least one year",
        reason=(
            "Retention is set per environment (logRetentionDays in cdk.json): production keeps "
            "logs for 365 days and stays checked by this rule; dev, local and staging keep them "
            "for 7 to 90 days because nobody investigates a non-production incident a year later."
        ),
        paths=NON_PROD_LOG_GROUPS,
    ),
    GuardException(
        rule="cloudwatch_log_group_encrypted_check",
        control="CT.CLOUDWATCH.PR.3 log groups encrypted with a KMS key",
        reason=(
            "The WAF log group is encrypted with the environment key, whose ARN it imports from "
            "the security stack (Fn::ImportValue); the rule accepts only a literal ARN or a Ref "
            "within the same template. The service-linked-role guard's log group cannot use that "
            "key: the key policy names the role the guard creates, so the key is created after it "
            "(a cycle); CloudWatch Logs encrypts it with an AWS-owned key and it holds only the "
            "role check's output."
        ),
        paths=(
            "*/Compute/Web/WebAcl/LogGroup/Resource",
            "*/Security/Encryption/AutoScalingRoleGuard/LogGroup/Resource",
        ),
    ),
    GuardException(
        rule="autoscaling_mixed_instances_policy_multiple_instance_types_check",
        control="CT.AUTOSCALING.PR.6 Auto Scaling groups use several instance types",
        reason=(
            "Each environment runs one instance type, pinned in cdk.json (instanceType) and sized "
            "for it. A MixedInstancesPolicy would hide the launch template from cdk-nag "
            "(AwsSolutions-EC26 throws and NIST.800.53.R5-EC2IMDSv2Enabled fails on it, so nothing "
            "would verify encrypted volumes and IMDSv2 any more), and listing the t3 types of dev, "
            "local and staging as overrides fails CT.AUTOSCALING.PR.11 (instance types with "
            "encryption in transit)."
        ),
        paths=("*/Compute/Fleet/Group/ASG",),
    ),
    GuardException(
        rule="alb_http_to_https_redirection_check",
        control="CT.ELASTICLOADBALANCING.PR.1 HTTP listeners redirect to HTTPS",
        reason=(
            "dev and local have no certificateArn, so their only listener serves plain HTTP (synth "
            "warns, and config validation refuses it for prod). Every environment with a "
            "certificate redirects port 80 to HTTPS and stays checked by this rule."
        ),
        paths=(
            "Dev/Compute/Web/LoadBalancer/Http/Resource",
            "Local/Compute/Web/LoadBalancer/Http/Resource",
        ),
    ),
    GuardException(
        rule="elbv2_deletion_protection_enabled_check",
        control="CT.ELASTICLOADBALANCING.PR.5 load balancer deletion protection",
        reason=(
            "Deletion protection is on in prod only, so that the other environments can be torn "
            "down with their stacks."
        ),
        paths=(
            "Dev/Compute/Web/LoadBalancer/Resource",
            "Local/Compute/Web/LoadBalancer/Resource",
            "Staging/Compute/Web/LoadBalancer/Resource",
        ),
    ),
    GuardException(
        rule="elbv2_logging_enabled_check",
        control="CT.ELASTICLOADBALANCING.PR.6 load balancer access logging",
        reason=(
            "Access logging is on (access_logs.s3.enabled=true); the bucket lives in the security "
            "stack, so the template holds an Fn::ImportValue, which the rule cannot resolve (it "
            "accepts only a literal bucket name or a Ref within the same template). cdk-nag "
            "AwsSolutions-ELB2 and checkov CKV_AWS_91 check the same attribute and pass."
        ),
        paths=("*/Compute/Web/LoadBalancer/Resource",),
    ),
    GuardException(
        rule="lambda_inside_vpc_check",
        control="CT.LAMBDA.PR.3 Lambda functions in a VPC",
        reason=(
            "The only functions are deploy-time custom-resource handlers, the service-linked-role "
            "guard and aws-cdk-lib's restrict-default-security-group provider; they call only the "
            "global IAM and EC2 APIs, once per deploy, and inside the VPC they would need ENI "
            "permissions and NAT egress for no gain."
        ),
        paths=(
            "*/Security/Encryption/AutoScalingRoleGuard/Function/Resource",
            "*/Network/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler",
        ),
    ),
    GuardException(
        rule="s3_bucket_logging_enabled_check",
        control="CT.S3.PR.2 S3 server access logging",
        reason=(
            "Each access-log bucket (one per environment, one for the pipeline) is where its "
            "artifact bucket's access logs (and the load balancer's logs) go; logging it would "
            "need a second log bucket, or itself (a loop)."
        ),
        paths=("*/Security/Buckets/AccessLogs/Resource", "*/Buckets/AccessLogs/Resource"),
    ),
    GuardException(
        rule="s3_event_notifications_enabled_check",
        control="CT.S3.PR.4 S3 event notifications",
        reason=(
            "Nothing in this architecture reacts to object events: instances fetch a release at "
            "boot, the pipeline tracks its own artifacts, and logs are only read during an "
            "investigation. A notification without a consumer would only satisfy the rule."
        ),
        paths=(
            "*/Security/Buckets/AccessLogs/Resource",
            "*/Security/Buckets/Artifacts/Resource",
            "*/Buckets/AccessLogs/Resource",
            "*/Buckets/Artifacts/Resource",
        ),
    ),
    GuardException(
        rule="s3_bucket_object_lock_enabled_check",
        control="CT.S3.PR.9 S3 Object Lock",
        reason=(
            "Release and pipeline artifacts are rebuilt from source, and access logs expire by "
            "lifecycle rule after their retention; versioning and RemovalPolicy.RETAIN (prod, "
            "pipeline) protect them. WORM retention would block that expiry and the teardown of "
            "non-production environments."
        ),
        paths=(
            "*/Security/Buckets/AccessLogs/Resource",
            "*/Security/Buckets/Artifacts/Resource",
            "*/Buckets/AccessLogs/Resource",
            "*/Buckets/Artifacts/Resource",
        ),
    ),
    GuardException(
        rule="s3_bucket_default_encryption_kms_check",
        control="CT.S3.PR.10 S3 default encryption with a KMS key",
        reason=(
            "S3 server access logging and ALB access logs deliver only to buckets encrypted with "
            "SSE-S3; a customer-managed key would silently stop both. The artifact buckets use a "
            "customer-managed key and stay checked by this rule."
        ),
        paths=("*/Security/Buckets/AccessLogs/Resource", "*/Buckets/AccessLogs/Resource"),
    ),
)


@jsii.implements(cdk.IPolicyValidationPlugin)
class CfnGuardPlugin:
    """CfnGuardValidator, its findings reported with severity `error`.

    The package leaves the severity empty. aws-cdk-lib 2.275, once it has moved acknowledged
    findings out of a report, re-derives the report's verdict from the severities of the findings
    left: with none set, one acknowledged finding turned every other one into a pass
    (tests/test_compliance.py drops one exception and expects synth to fail).
    """

    def __init__(self) -> None:
        self._guard = CfnGuardValidator()

    @property
    def name(self) -> str:
        return self._guard.name

    @property
    def version(self) -> str | None:
        return self._guard.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._guard.rule_ids

    def validate(
        self, context: cdk.IPolicyValidationContextBeta1
    ) -> cdk.PolicyValidationPluginReport:
        report = self._guard.validate(context)
        return cdk.PolicyValidationPluginReport(
            success=report.success,
            violations=[
                cdk.PolicyViolation(
                    description=v.description,
                    rule_name=v.rule_name,
                    violating_resources=[
                        cdk.PolicyViolatingResource(
                            locations=r.locations,
                            resource_logical_id=r.resource_logical_id,
                            template_path=r.template_path,
                        )
                        for r in v.violating_resources
                    ],
                    fix=v.fix,
                    rule_metadata=v.rule_metadata,
                    severity=v.severity or "error",
                )
                for v in report.violations
            ],
            metadata=report.metadata,
        )


def acknowledge_exceptions(app: cdk.App) -> None:
    """Acknowledge every exception on each resource it names, in every stage that has it."""
    for exception in EXCEPTIONS:
        acknowledgment = cdk.Acknowledgment(
            id=f"{PLUGIN}::{exception.rule}", reason=exception.reason
        )
        for scopes in resolve(app, exception).values():
            for scope in scopes:
                cdk.Validations.of(scope).acknowledge(acknowledgment)


def resolve(app: cdk.App, exception: GuardException) -> dict[str, list[IConstruct]]:
    """The constructs each path of `exception` names in `app` (none: a stale path)."""
    roots = _roots(app)
    found: dict[str, list[IConstruct]] = {}
    for path in exception.paths:
        first, _, below = path.partition("/")
        found[path] = [
            scope
            for root_id, root in roots
            if first in (ANY_ROOT, root_id) and (scope := _find(root, below.split("/"))) is not None
        ]
    return found


def _roots(app: cdk.App) -> list[tuple[str, IConstruct]]:
    """Each environment's stage, on its own and inside the pipeline stack, and that stack."""
    roots: list[tuple[str, IConstruct]] = []
    for child in app.node.children:
        roots.append((child.node.id, child))
        if cdk.Stack.is_stack(child):
            roots += [(c.node.id, c) for c in child.node.children if cdk.Stage.is_stage(c)]
    return roots


def _find(root: IConstruct, ids: list[str]) -> IConstruct | None:
    scope: IConstruct | None = root
    for construct_id in ids:
        if scope is None:
            return None
        scope = scope.node.try_find_child(construct_id)
    return scope
