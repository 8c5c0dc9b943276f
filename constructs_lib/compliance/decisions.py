"""The catalogue: every scanner finding this app accepts, each written once.

A record says what is accepted on which resources, why, and the rule ID of every scanner that
reports it (cdk-nag, cfn-guard, checkov, cfn-lint, aws-cdk-lib's template validation). The
construct that owns a resource applies the record with `accept(resource, decisions.X)`; the
scanners' acknowledgments and suppressions are written from it. A few apply to every template
(`everywhere=True`): `make decisions` writes them into .checkov.yaml and .cfnlintrc.yaml.

The gate (tests/test_decisions.py) builds the app with every decision withheld and runs each
scanner: a decision applied where none of its rules reports anything, a rule that fires nowhere
it is applied, or a record applied nowhere fails it. Fix a finding before adding a record here.
"""

from __future__ import annotations

from constructs_lib.compliance._decision import Decision

# Deploy-time handlers (constructs_lib/handlers: InlineCustomResource)

HANDLER_LOG_GROUP = Decision(
    name="handler-log-group",
    accepted="the log group of each deploy-time handler is encrypted by CloudWatch Logs with an "
    "AWS-owned key, not the environment key, and keeps logs as long as the environment does",
    why="the environment key may not exist yet when a handler runs: the key's policy names the "
    "service-linked role the first handler creates, and the network stack's default-group "
    "lockdown deploys before the security stack that holds the key; the group holds only the "
    "handler's own output",
    cdk_nag=("NIST.800.53.R5-CloudWatchLogGroupEncrypted",),
    cfn_guard=(
        "cloudwatch_log_group_encrypted_check",
        "cloudwatch_log_group_retention_period_check",
    ),
    checkov=("CKV_AWS_158",),
)

HANDLER_OUTSIDE_VPC = Decision(
    name="handler-outside-vpc",
    accepted="the deploy-time handlers' functions run outside the VPC",
    why="they call only regional AWS APIs, once per deploy; inside the VPC they would need ENI "
    "permissions on '*' and a NAT route to those APIs for no gain",
    cdk_nag=("NIST.800.53.R5-LambdaInsideVPC",),
    cfn_guard=("lambda_inside_vpc_check",),
    checkov=("CKV_AWS_117",),
)

HANDLER_UNRESERVED_CONCURRENCY = Decision(
    name="handler-unreserved-concurrency",
    accepted="the deploy-time handlers' functions reserve no concurrency",
    why="CloudFormation invokes each once per deploy of its stack; reserving concurrency would "
    "take capacity from the account's unreserved pool, and fails where that pool is at its minimum",
    cdk_nag=("NIST.800.53.R5-LambdaConcurrency",),
    checkov=("CKV_AWS_115",),
)

HANDLER_WITHOUT_DEAD_LETTER_QUEUE = Decision(
    name="handler-without-dead-letter-queue",
    accepted="the deploy-time handlers' functions have no dead-letter queue",
    why="CloudFormation invokes them synchronously and records every failure in the stack events "
    "before it rolls back: there is no asynchronous event to lose",
    cdk_nag=("NIST.800.53.R5-LambdaDLQ",),
    checkov=("CKV_AWS_116",),
)

# Network (constructs_lib/network)

PINNED_AVAILABILITY_ZONES = Decision(
    name="pinned-availability-zones",
    accepted="the VPC's subnets and the Auto Scaling group name their Availability Zones literally",
    why="the AZs are pinned in config on purpose: synth needs no lookup, each tier's subnets land "
    "in exactly the AZs the environment was sized for, and the group lists them so that template "
    "checks can see it spans several",
    cdk_validate=("W3010",),
)

FLOW_LOGS_IN_SECURITY_STACK = Decision(
    name="flow-logs-in-security-stack",
    accepted="the VPC has no flow log in its own stack",
    why="flow logs of all traffic are created in the security stack, next to the KMS key that "
    "encrypts their log group; the key cannot live in the network stack (it depends on the VPC's "
    "consumers), and a flow log there would make the two stacks depend on each other",
    cdk_nag=("AwsSolutions-VPC7", "NIST.800.53.R5-VPCFlowLogsEnabled"),
)

DEFAULT_GROUP_LOCKED_DOWN_BY_HANDLER = Decision(
    name="default-group-locked-down-by-handler",
    accepted="the VPC's default security group is closed by this app's own custom resource",
    why="the DefaultSecurityGroupLockdown custom resource next to the VPC revokes the default "
    "group's rules; the rule recognises only aws-cdk-lib's own provider, whose code is a file "
    "asset the pipeline cannot publish",
    cdk_nag=("NIST.800.53.R5-VPCDefaultSecurityGroupClosed",),
)

DEFAULT_GROUP_OPEN_WITHOUT_LAMBDA = Decision(
    name="default-group-open-without-lambda",
    accepted="the VPC's default security group keeps its default rules where "
    "restrictDefaultSecurityGroup is off",
    why="it is off only where the custom resource that strips the default group cannot run (the "
    "local emulator has no Lambda), and no resource of this app uses the default group",
    cdk_nag=("NIST.800.53.R5-VPCDefaultSecurityGroupClosed",),
)

PUBLIC_SUBNET_ROUTE_TO_INTERNET = Decision(
    name="public-subnet-route-to-internet",
    accepted="the public subnets route all IPv4 traffic to the internet gateway",
    why="that is what makes them public: the internet-facing load balancer and the NAT gateways "
    "need it",
    cdk_nag=("NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",),
)

# Security groups and the instance role (constructs_lib/security)

INTERNET_FACING_WEB_GROUP = Decision(
    name="internet-facing-web-group",
    accepted="the web tier's security group admits 443 and 80 from anywhere",
    why="it fronts an internet-facing load balancer, which is the point of it; port 80 only "
    "redirects to HTTPS, or serves plain HTTP outside production where no certificate is "
    "configured",
    cdk_nag=("AwsSolutions-EC23",),
    checkov=("CKV_AWS_260",),
)

INSTANCE_ACTIONS_WITHOUT_RESOURCES = Decision(
    name="instance-actions-without-resources",
    accepted="the instance role's policy grants some actions on '*'",
    why="ssmmessages:*Channel, ec2messages:*, elasticloadbalancing:DescribeTargetHealth and "
    "cloudwatch:PutMetricData have no resource-level permissions in IAM; every action is named, "
    "and PutMetricData is held to the agent's namespace by cloudwatch:namespace",
    cdk_nag=("AwsSolutions-IAM5[Resource::*]",),
)

INSTANCES_REGISTER_WITH_SYSTEMS_MANAGER = Decision(
    name="instances-register-with-systems-manager",
    accepted="the instance role may update the Systems Manager record of any of the account's "
    "instances",
    why="ssm:UpdateInstanceInformation names the instance, and the IDs of the instances the Auto "
    "Scaling group launches are not known in advance",
    cdk_nag=("AwsSolutions-IAM5[Resource::arn:aws:ec2:{region}:{account}:instance/*]",),
)

INSTANCE_LOG_STREAMS = Decision(
    name="instance-log-streams",
    accepted="the instance role may write to any log stream of the instances' log group",
    why="log streams are created at run time, one per instance, inside this one log group",
    cdk_nag=("AwsSolutions-IAM5[Resource::<{log_group}.Arn>:log-stream:*]",),
)

INSTANCES_READ_RELEASES = Decision(
    name="instances-read-releases",
    accepted="the instance role may read every release artifact",
    why="read-only access to every object under the {prefix} prefix of the artifact bucket and "
    "nothing else in it: a release is chosen at boot",
    cdk_nag=("AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{prefix}*]",),
)

INSTANCES_SIGNAL_COMPUTE_STACK = Decision(
    name="instances-signal-compute-stack",
    accepted="the instance role may send cfn-signal to any stack named like the compute stack",
    why="cfn-signal for the compute stack only; the '*' is the stack ID CloudFormation assigns "
    "when it creates the stack",
    cdk_nag=(
        "AwsSolutions-IAM5[Resource::arn:aws:cloudformation:{region}:{account}:stack/{stack}/*]",
    ),
)

# Buckets (constructs_lib/storage)

ACCESS_LOG_BUCKET_SSE_S3 = Decision(
    name="access-log-bucket-sse-s3",
    accepted="the access-log bucket is encrypted with SSE-S3, not a customer-managed KMS key",
    why="S3 server access logging and ALB access logs deliver only to SSE-S3 buckets; a "
    "customer-managed key would silently stop both",
    cdk_nag=("NIST.800.53.R5-S3DefaultEncryptionKMS",),
    cfn_guard=("s3_bucket_default_encryption_kms_check",),
)

ACCESS_LOG_BUCKET_NOT_LOGGED = Decision(
    name="access-log-bucket-not-logged",
    accepted="the access-log bucket has no server access logging of its own",
    why="it is where the artifact bucket's access logs and the load balancer's logs go; logging "
    "it would need a second log bucket, or itself (a loop); cdk-nag's S1 accepts a log target",
    cfn_guard=("s3_bucket_logging_enabled_check",),
    checkov=("CKV_AWS_18",),
)

BUCKETS_WITHOUT_EVENT_NOTIFICATIONS = Decision(
    name="buckets-without-event-notifications",
    accepted="the buckets send no event notifications",
    why="nothing reacts to object events: instances fetch a release at boot and logs are read "
    "only during an investigation; a notification without a consumer is noise",
    cfn_guard=("s3_event_notifications_enabled_check",),
)

BUCKETS_WITHOUT_OBJECT_LOCK = Decision(
    name="buckets-without-object-lock",
    accepted="the buckets have no S3 Object Lock",
    why="artifacts are rebuilt from source and logs expire by lifecycle rule; versioning and "
    "retention protect them, and WORM retention would block expiry and teardown",
    cfn_guard=("s3_bucket_object_lock_enabled_check",),
)

SINGLE_REGION_BUCKETS = Decision(
    name="single-region-buckets",
    accepted="the buckets are not replicated to another region",
    why="single-region design: versioning (and retention in production) protects the objects; "
    "artifacts are rebuilt by their build and logs are not a recovery source",
    cdk_nag=("NIST.800.53.R5-S3BucketReplicationEnabled",),
)

EMPTY_BUCKETS_ON_DELETE = Decision(
    name="empty-buckets-on-delete",
    accepted="the bucket emptier may delete every object of the environment's buckets",
    why="emptying a bucket before its deletion means deleting every object in it, whatever its "
    "key; it runs only on stack deletion, outside production",
    cdk_nag=("AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",),
)

# Log groups of the environment (constructs_lib/core: environment_log_group)

SHORT_LOG_RETENTION_OUTSIDE_PRODUCTION = Decision(
    name="short-log-retention-outside-production",
    accepted="log groups outside production keep logs for less than a year",
    why="retention is set per environment (logRetentionDays, {days} days here): nobody "
    "investigates a non-production incident a year later; production stays checked by the rule",
    cfn_guard=("cloudwatch_log_group_retention_period_check",),
)

# Load balancer, web ACL, DNS (constructs_lib/edge)

LOAD_BALANCER_PROTECTED_LATER = Decision(
    name="load-balancer-protected-later",
    accepted="the load balancer's template has no deletion protection",
    why="production turns deletion protection on once everything else of its first create exists "
    "(a custom resource created last), so that a failed create rolls back; other environments "
    "are torn down with their stacks",
    cdk_nag=("NIST.800.53.R5-ELBDeletionProtectionEnabled",),
    cfn_guard=("elbv2_deletion_protection_enabled_check",),
)

LOAD_BALANCER_LOGS_TO_IMPORTED_BUCKET = Decision(
    name="load-balancer-logs-to-imported-bucket",
    accepted="the load balancer's access logging is not visible to cfn-guard",
    why="access logging is on; the bucket lives in the security stack, so the template holds an "
    "Fn::ImportValue, which the rule cannot resolve (cdk-nag's ELB2 checks the same and passes)",
    cfn_guard=("elbv2_logging_enabled_check",),
)

HTTP_PORT_ONLY_REDIRECTS = Decision(
    name="http-port-only-redirects",
    accepted="the port-80 listener has no certificate where an HTTPS listener exists",
    why="port 80 only answers with a permanent redirect to the HTTPS listener, which uses the "
    "ACM certificate",
    cdk_nag=("NIST.800.53.R5-ELBv2ACMCertificateRequired",),
)

PLAIN_HTTP_OUTSIDE_PRODUCTION = Decision(
    name="plain-http-outside-production",
    accepted="the only listener serves plain HTTP on port 80 in an environment without "
    "certificateArn or domainName",
    why="a non-production environment without a certificate serves plain HTTP on purpose, as its "
    "config chose and the README says; config validation refuses this for production",
    cdk_nag=(
        "NIST.800.53.R5-ELBv2ACMCertificateRequired",
        "NIST.800.53.R5-ALBHttpToHttpsRedirection",
    ),
    cfn_guard=("alb_http_to_https_redirection_check",),
    checkov=("CKV_AWS_2", "CKV_AWS_103"),
)

UNPROTECT_REPLACED_LOAD_BALANCERS = Decision(
    name="unprotect-replaced-load-balancers",
    accepted="the deletion-protection handler may modify any load balancer tagged with its "
    "stack's ID",
    why="it lifts deletion protection from the load balancer a replacement left behind, whose ARN "
    "the template no longer names; the tag condition holds it to this stack's own",
    cdk_nag=(
        "AwsSolutions-IAM5[Resource::arn:aws:elasticloadbalancing:{region}:{account}:"
        "loadbalancer/app/*]",
    ),
)

WAF_LOG_KEY_IMPORTED = Decision(
    name="waf-log-key-imported",
    accepted="the web ACL's log group is not seen as encrypted by cfn-guard",
    why="it is encrypted with the environment key, whose ARN it imports from the security stack; "
    "the rule accepts only a literal ARN or a Ref within the same template",
    cfn_guard=("cloudwatch_log_group_encrypted_check",),
)

# Fleet and zonal operation (constructs_lib/fleet, constructs_lib/monitoring)

ONE_INSTANCE_TYPE = Decision(
    name="one-instance-type",
    accepted="the Auto Scaling group launches one instance type",
    why="one type per environment, pinned in config and sized for it; a mixed instances policy "
    "would hide the launch template from cdk-nag's IMDSv2 and volume checks, and the t3 types as "
    "overrides fail CT.AUTOSCALING.PR.11",
    cfn_guard=("autoscaling_mixed_instances_policy_multiple_instance_types_check",),
)

CROSS_ZONE_OFF = Decision(
    name="cross-zone-off",
    accepted="the target group turns cross-zone load balancing off where every AZ holds an "
    "instance",
    why="off on purpose where the floor puts an instance in every AZ (config validation requires "
    "it with zonal autoshift): the per-AZ alarms then see each AZ end to end (docs/design.md)",
    cfn_guard=("elbv2_target_group_cross_zone_check",),
)

# The pipeline's generated grants (constructs_lib/delivery: acknowledge_generated_grants)

PIPELINE_ARTIFACT_ACTION_GROUPS = Decision(
    name="pipeline-artifact-action-groups",
    accepted="CDK Pipelines' roles get wildcard action groups on the artifact bucket and key",
    why="CDK Pipelines grants its roles the artifact bucket and key through grant helpers that use "
    "these action groups; it offers no way to narrow them",
    cdk_nag=("AwsSolutions-IAM5[Action::{action}]",),
)

PIPELINE_ARTIFACT_OBJECTS = Decision(
    name="pipeline-artifact-objects",
    accepted="CDK Pipelines' roles may use every object of the pipeline's artifact bucket",
    why="CodePipeline generates the artifact keys per execution, inside the pipeline's own bucket",
    cdk_nag=("AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",),
)

CODEBUILD_LOG_STREAMS = Decision(
    name="codebuild-log-streams",
    accepted="each CodeBuild project's role may write any log stream of its own log group",
    why="CodeBuild creates a log stream per build inside the project's own log group; CDK "
    "Pipelines writes this grant",
    cdk_nag=(
        "AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/"
        "<{project}>:*]",
    ),
)

CODEBUILD_REPORT_GROUPS = Decision(
    name="codebuild-report-groups",
    accepted="each CodeBuild project's role may use the report groups named after it",
    why="CodeBuild names a project's test report groups after the project; CDK Pipelines writes "
    "this grant",
    cdk_nag=(
        "AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/"
        "<{project}>-*]",
    ),
)

SELF_MUTATION_ASSUMES_BOOTSTRAP_ROLES = Decision(
    name="self-mutation-assumes-bootstrap-roles",
    accepted="self-mutation may assume any role of the pipeline account",
    why="it assumes the CDK bootstrap roles, which CDK Pipelines matches by name pattern because "
    "their qualifier is chosen at bootstrap",
    cdk_nag=("AwsSolutions-IAM5[Resource::arn:*:iam::{account}:role/*]",),
)

SELF_MUTATION_RUN_TIME_TARGETS = Decision(
    name="self-mutation-run-time-targets",
    accepted="self-mutation calls some actions on '*'",
    why="cloudformation:DescribeStacks and sts:AssumeRole on targets CDK Pipelines knows only at "
    "run time",
    cdk_nag=("AwsSolutions-IAM5[Resource::*]",),
)

PIPELINE_INLINE_POLICIES = Decision(
    name="pipeline-inline-policies",
    accepted="CDK Pipelines' roles hold inline policies",
    why="CDK Pipelines writes its roles' grants as inline default policies and has no option for "
    "managed ones; the roles serve only this pipeline",
    cdk_nag=("NIST.800.53.R5-IAMNoInlinePolicy",),
)

# Every template

REDUNDANT_DEPENDS_ON = Decision(
    name="redundant-depends-on",
    accepted="a DependsOn next to a Ref or GetAtt of the same resource (cfn-lint W3005), in any "
    "template",
    why="aws-cdk-lib writes some (a function on its execution role, the request-count scaling "
    "policy on the listener, a pipeline on its role), and this app depends on whole constructs on "
    "purpose (an alarm on its topic and the topic's policy, the group on its release-gate alarms "
    "and the listener, production's deletion protection on everything else of its stack); a "
    "redundant DependsOn does not change the deployment order",
    cfn_lint=("W3005",),
    everywhere=True,
)

CATALOGUE: tuple[Decision, ...] = tuple(
    value for value in tuple(globals().values()) if isinstance(value, Decision)
)
