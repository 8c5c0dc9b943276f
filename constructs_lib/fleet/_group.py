"""The instance fleet: launch template, Auto Scaling group, readiness signals and scaling."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.compliance import accept, decisions
from constructs_lib.core import EXPLICIT_NAME_TAG_PRIORITY, FLEET_CPU_TARGET_PERCENT
from constructs_lib.edge import DEREGISTRATION_DELAY
from constructs_lib.fleet._config import FleetSection
from constructs_lib.fleet._rollout import (
    ALARM_WINDOW_MINUTES,
    BatchTiming,
    RolloutPlan,
    plan_rollout,
)
from constructs_lib.network import APP_TIER

# The boot script and the bundled service, read as text at synth.
ASSETS = Path(__file__).parent / "assets"
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023
# CloudFormation waits this long for each instance's success signal of the first create (the
# CreationPolicy; a release does not wait on signals). Everything the boot script may spend is
# derived from it below, so a failure signal arrives while CloudFormation still waits (its reason
# is in the boot log); a test holds the relation.
SIGNAL_TIMEOUT = cdk.Duration.minutes(15)
# From CloudFormation asking for an instance to that instance's kernel starting (capacity,
# placement, pending). The boot script's clock is the kernel's uptime: OS boot, cloud-init and
# every package install count against its deadline, measured rather than estimated.
LAUNCH_ALLOWANCE_SECONDS = 120
# `timeout` sends SIGTERM at a call's limit and SIGKILL this much later: a bounded call can end
# this late, and every budget below counts it.
KILL_AFTER_SECONDS = 5
# cfn-signal retries inside itself (for ever on throttling), so each attempt runs under a limit;
# a failed attempt is retried after a pause that doubles from SIGNAL_BACKOFF_SECONDS.
SIGNAL_ATTEMPTS = 4
SIGNAL_ATTEMPT_SECONDS = 30
SIGNAL_BACKOFF_SECONDS = 5
SIGNAL_BUDGET_SECONDS = SIGNAL_ATTEMPTS * (SIGNAL_ATTEMPT_SECONDS + KILL_AFTER_SECONDS) + sum(
    SIGNAL_BACKOFF_SECONDS * 2**retry for retry in range(SIGNAL_ATTEMPTS - 1)
)
# The one deadline of the boot script, in seconds of uptime: by then the instance is healthy in
# the target group or the script gives up; only signalling is left after it.
BOOT_DEADLINE_SECONDS = (
    int(SIGNAL_TIMEOUT.to_seconds())
    - LAUNCH_ALLOWANCE_SECONDS
    - KILL_AFTER_SECONDS
    - SIGNAL_BUDGET_SECONDS
)
# The uptime by which the script has ended, whatever hung: its last bounded call, then every
# signal attempt.
BOOT_SCRIPT_END_SECONDS = BOOT_DEADLINE_SECONDS + KILL_AFTER_SECONDS + SIGNAL_BUDGET_SECONDS
# Limits of single steps inside the deadline: a broken release fails in minutes, not at the
# deadline, and one hung call cannot use up the time of the calls after it.
SERVICE_WAIT_SECONDS = 180
PACKAGE_INSTALL_SECONDS = 180
COMMAND_SECONDS = 60
POLL_SECONDS = 10
CHECK_TIMEOUT_SECONDS = 5
# The AWS CLI's own retries (standard mode) stop after this many attempts of one call, each
# attempt bounded by CHECK_TIMEOUT_SECONDS to connect and to read; AWS_CALL_SECONDS is the hard
# limit around a whole call that is not a download.
AWS_CLI_ATTEMPTS = 3
AWS_CALL_SECONDS = 30
# Auto Scaling replaces an instance that the load balancer reports unhealthy once the grace period
# is over, even while its boot script still waits for it to turn healthy (nothing is suspended
# during a create or a scale-out). The grace starts when the instance is InService, at about the
# uptime clock's zero, and covers the script's whole life. A launch lifecycle hook would not do:
# an instance in Pending:Wait is not yet registered with the target group, so the script could
# never see it healthy there.
HEALTH_CHECK_GRACE = cdk.Duration.seconds(BOOT_SCRIPT_END_SECONDS)
REQUESTS_PER_TARGET_PER_MINUTE = 1000
# A release moves to its next batch no sooner than one alarm window after the replacements entered
# service (and not before they are healthy in the target group): a release that fails at once
# (crashes, answers 5xx) raises a gating alarm while it has replaced one batch, not the fleet.
INSTANCE_WARMUP = cdk.Duration.minutes(ALARM_WINDOW_MINUTES)
# What one batch of a healthy release may take (constructs_lib/fleet/_rollout.py adds them up).
RELEASE_BATCH = BatchTiming(
    launch=LAUNCH_ALLOWANCE_SECONDS,
    healthy_by=BOOT_DEADLINE_SECONDS,
    warmup=int(INSTANCE_WARMUP.to_seconds()),
    draining=int(DEREGISTRATION_DELAY.to_seconds()),
)
# CDK's warning that an instance refresh does not wait for cfn-signal: on purpose (release_policy).
SIGNALS_NOT_USED_BY_REFRESH = "@aws-cdk/aws-autoscaling:signalsNotUsedByInstanceRefresh"


def release_plan(section: FleetSection) -> RolloutPlan:
    """How a release replaces this fleet, and its worst case (make release-plan)."""
    rollout = section.rollout
    return plan_rollout(
        min_capacity=section.min_capacity,
        max_capacity=section.max_capacity,
        min_healthy_percentage=rollout.min_healthy_percentage,
        max_healthy_percentage=rollout.max_healthy_percentage,
        checkpoints=rollout.checkpoints,
        checkpoint_delay_minutes=rollout.checkpoint_delay_minutes,
        bake_minutes=rollout.bake_time_minutes,
        batch=RELEASE_BATCH,
        alarm_gate=rollout.alarm_gate,
    )


class Fleet(Construct):
    """Instances in the private subnets of every AZ that report readiness with cfn-signal."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        role: iam.IRole,
        key: kms.IKey,
        target_group: elbv2.ApplicationTargetGroup,
        artifact_bucket: s3.IBucket,
        notifications: sns.ITopic,
        section: FleetSection,
        region: str,
        availability_zones: tuple[str, ...],
        instance_name: str,
        log_group_name: str,
        agent_metric_namespace: str,
    ):
        """`instance_name`: the `Name` of instances and their volumes; `log_group_name` and
        `agent_metric_namespace`: where the CloudWatch agent sends their logs and metrics."""
        super().__init__(scope, construct_id)
        # How a release replaces the instances (CloudFormation's instance refresh).
        self.rollout = release_plan(section)
        user_data = ec2.UserData.for_linux()

        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            # Pinned on purpose: a moving "latest" AMI would replace every instance at the next
            # unrelated deploy. Bump `amiId` in cdk.json to roll a new image out.
            machine_image=ec2.MachineImage.generic_linux({region: section.ami_id}),
            instance_type=ec2.InstanceType(section.instance_type),
            role=role,
            security_group=security_group,
            user_data=user_data,
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name=ROOT_DEVICE,
                    volume=ec2.BlockDeviceVolume.ebs(
                        section.root_volume_gib,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        encrypted=True,
                        kms_key=key,
                        delete_on_termination=True,
                    ),
                )
            ],
        )

        # Instances and their volumes are named after what they are, not after the template.
        cdk.Tags.of(self.launch_template).add(
            "Name", instance_name, priority=EXPLICIT_NAME_TAG_PRIORITY
        )

        self.group = autoscaling.AutoScalingGroup(
            self,
            "Group",
            vpc=vpc,
            vpc_subnets=APP_TIER,
            launch_template=self.launch_template,
            # No desired capacity in the template: with scaling policies, every update and every
            # rollback would reset a scaled-out group to it (aws-cdk#5215). The group starts at
            # minCapacity and the scaling policies own the number from then on.
            min_capacity=section.min_capacity,
            max_capacity=section.max_capacity,
            health_checks=autoscaling.HealthChecks.with_additional_checks(
                additional_types=[autoscaling.AdditionalHealthCheckType.ELB],
                grace_period=HEALTH_CHECK_GRACE,
            ),
            # CreationPolicy: one success signal from every instance the group starts with.
            signals=autoscaling.Signals.wait_for_min_capacity(timeout=SIGNAL_TIMEOUT),
            update_policy=release_policy(self.rollout),
            # One warm-up for scaling and refresh alike: AWS recommends DefaultInstanceWarmup "in
            # all cases" (RefreshPreferences); without it target tracking counts a booting
            # instance's metrics at once.
            default_instance_warmup=INSTANCE_WARMUP,
            notifications=[autoscaling.NotificationConfiguration(topic=notifications)],
            group_metrics=[autoscaling.GroupMetrics.all()],
        )
        cdk.Annotations.of(self.group).acknowledge_warning(
            SIGNALS_NOT_USED_BY_REFRESH,
            "only the first create waits for cfn-signal (the CreationPolicy); a release proves "
            "readiness by target-group health, warm-up and the alarms that gate it",
        )
        accept(self.group, decisions.ONE_INSTANCE_TYPE)
        self.group.attach_to_application_target_group(target_group)
        self.group.scale_on_cpu_utilization(
            "CpuScaling", target_utilization_percent=FLEET_CPU_TARGET_PERCENT
        )
        self.group.scale_on_request_count(
            "RequestScaling", target_requests_per_minute=REQUESTS_PER_TARGET_PER_MINUTE
        )

        stack = cdk.Stack.of(self)
        group_resource = self.group.node.default_child
        assert isinstance(group_resource, autoscaling.CfnAutoScalingGroup)
        # The subnets are imported from the network stack, so a template check cannot count their
        # AZs; the same pinned AZs on the group let Control Tower's CT.AUTOSCALING.PR.1 see them.
        group_resource.availability_zones = list(availability_zones)
        accept(self.group, decisions.PINNED_AVAILABILITY_ZONES)
        # The boot script names the ASG by the logical ID it is synthesized with, never a literal.
        self.group_logical_id = stack.get_logical_id(group_resource)
        release = section.release
        user_data.add_commands(
            *boot_variables(
                {
                    "STACK_NAME": stack.stack_name,
                    "ASG_LOGICAL_ID": self.group_logical_id,
                    "REGION": stack.region,
                    "TARGET_GROUP_ARN": target_group.target_group_arn,
                    "APP_PORT": str(section.app_port),
                    "HEALTH_CHECK_PATH": section.health_check_path,
                    "ARTIFACT_BUCKET": artifact_bucket.bucket_name,
                    "RELEASE_ARTIFACT": release.artifact if release else "",
                    "RELEASE_VERSION_ID": release.version_id if release else "",
                    "RELEASE_SHA256": release.sha256 if release else "",
                    "BOOT_DEADLINE_SECONDS": str(BOOT_DEADLINE_SECONDS),
                    "SERVICE_WAIT_SECONDS": str(SERVICE_WAIT_SECONDS),
                    "PACKAGE_INSTALL_SECONDS": str(PACKAGE_INSTALL_SECONDS),
                    "COMMAND_SECONDS": str(COMMAND_SECONDS),
                    "POLL_SECONDS": str(POLL_SECONDS),
                    "CHECK_TIMEOUT_SECONDS": str(CHECK_TIMEOUT_SECONDS),
                    "AWS_CLI_ATTEMPTS": str(AWS_CLI_ATTEMPTS),
                    "AWS_CALL_SECONDS": str(AWS_CALL_SECONDS),
                    "KILL_AFTER_SECONDS": str(KILL_AFTER_SECONDS),
                    "SIGNAL_ATTEMPTS": str(SIGNAL_ATTEMPTS),
                    "SIGNAL_ATTEMPT_SECONDS": str(SIGNAL_ATTEMPT_SECONDS),
                    "SIGNAL_BACKOFF_SECONDS": str(SIGNAL_BACKOFF_SECONDS),
                    # Literal names from the convention: no export from the security stack.
                    "LOG_GROUP_NAME": log_group_name,
                    "AGENT_NAMESPACE": agent_metric_namespace,
                    "BUNDLED_SERVICE": (ASSETS / "webapp.py").read_text(),
                }
            ),
            (ASSETS / "boot.sh").read_text(),
        )

    def gate_releases_on(self, alarms: Sequence[cloudwatch.IAlarm]) -> None:
        """A release that sets one of `alarms` off while it replaces instances or bakes fails,
        and CloudFormation rolls the stack, and with it the launch template version, back
        (unless the plan breaks glass: `rollout.alarmGate` false).

        Set here, after the group exists, because some of the environment's alarms watch the
        group; `UpdatePolicy.instance_refresh` takes its alarms only when the group is built.
        """
        if not self.rollout.alarm_gate:
            return
        group_resource = self.group.node.default_child
        assert isinstance(group_resource, autoscaling.CfnAutoScalingGroup)
        # An override skips CDK's own check of CloudFormation's limit: "You can specify up to 10
        # alarms" (AlarmSpecification).
        if len(alarms) > 10:
            raise ValueError(f"{len(alarms)} release-gate alarms: CloudFormation takes 10 at most")
        group_resource.add_override(
            "UpdatePolicy.AutoScalingInstanceRefresh.Preferences.AlarmSpecification",
            {"Alarms": [alarm.alarm_name for alarm in alarms]},
        )
        # A reference inside UpdatePolicy is not a property: the explicit dependency makes a
        # gate alarm added in the same deploy exist before the group's refresh starts.
        for alarm in alarms:
            self.group.node.add_dependency(alarm)


def release_policy(rollout: RolloutPlan) -> autoscaling.UpdatePolicy:
    """CloudFormation's instance refresh: launch before terminate, nothing suspended.

    A rolling update suspended health checks, replacements and alarm-driven scaling for as long as
    it ran; an instance refresh suspends nothing, so the fleet keeps scaling and healing while a
    release replaces it. It does not wait on cfn-signal: a replacement counts once it is healthy
    in the target group (the group's ELB health check) and its warm-up has passed.
    """
    return autoscaling.UpdatePolicy.instance_refresh(
        strategy=autoscaling.InstanceRefreshStrategy.ROLLING,
        # Percentages of the desired capacity at the time: a scaled-out fleet keeps what it
        # serves with (100) and replaces in batches that grow with it.
        min_healthy_percentage=rollout.min_healthy_percentage,
        max_healthy_percentage=rollout.max_healthy_percentage,
        instance_warmup=INSTANCE_WARMUP,
        # Only instances not on the group's launch template version are replaced: a deploy that
        # changes nothing in the launch template (or redeploys the same release) replaces none.
        skip_matching=True,
        checkpoint_percentages=list(rollout.checkpoints) or None,
        checkpoint_delay=(
            cdk.Duration.minutes(rollout.checkpoint_delay_minutes) if rollout.checkpoints else None
        ),
        bake_time=cdk.Duration.minutes(rollout.bake_minutes),
        # Nothing here protects instances from scale-in; one protected by hand still gets the
        # release, or the fleet would serve two versions until someone noticed.
        scale_in_protected_instances=autoscaling.ScaleInProtectedInstances.REFRESH,
        # An instance in Standby serves nothing (someone is looking at it): left alone, and the
        # release does not wait for it to come back.
        standby_instances=autoscaling.StandbyInstances.IGNORE,
    )


def boot_variables(values: dict[str, str]) -> list[str]:
    """Shell assignments for the boot script; tokens (ARNs, names) resolve inside the quotes.

    A token renders as `${Token[...]}`, which shlex quotes whole, like any text with `$`; the value
    CloudFormation puts in its place holds no quote character (an ARN, a name, an ID).
    """
    lines = []
    for name, value in values.items():
        if "`" in value or "$" in value:
            # Literal text (the bundled service's source): nothing in it is meant to expand.
            lines.append("# shellcheck disable=SC2016")
        lines.append(f"{name}={shlex.quote(value)}")
    return lines
