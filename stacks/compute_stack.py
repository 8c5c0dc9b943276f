from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.config import EnvironmentConfig
from constructs_lib.core import COMPUTE, Naming, log_retention
from constructs_lib.edge import (
    WebDomainProps,
    WebLoadBalancer,
    WebLoadBalancerProps,
    deletion_protection,
)
from constructs_lib.fleet import (
    RELEASE_BATCH,
    Fleet,
    FleetProps,
    Release,
    RolloutPlan,
    plan_rollout,
)
from constructs_lib.monitoring import (
    AlarmThresholds,
    PracticeRuns,
    WebTierAlarms,
    WebTierDashboard,
    ZonalResilience,
    ZonalThresholds,
    enable_zonal_shift,
    encrypted_topic,
)


class ComputeStack(cdk.Stack):
    """The load balancer, the instance fleet behind it, and the alarms on both."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        web_security_group: ec2.ISecurityGroup,
        app_security_group: ec2.ISecurityGroup,
        instance_role: iam.IRole,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        access_log_bucket: s3.IBucket,
        environment: EnvironmentConfig,
        naming: Naming,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        thresholds = alarm_thresholds(environment)
        # What pages: the alarms of an outage. It keeps the logical ID it had as the only topic: a
        # replaced topic would lose its confirmed e-mail subscriptions.
        paging_topic = encrypted_topic(
            self,
            "Notifications",
            topic_name=naming.alarm_topic_name(),
            key=key,
            email=environment.alarm_email,
            alarm_name_pattern=naming.alarm_name_pattern(),
        )
        # What informs: launches, terminations and the precursors of an outage.
        informational_topic = encrypted_topic(
            self,
            "InformationalNotifications",
            topic_name=naming.notification_topic_name(),
            key=key,
            email=environment.notification_email,
            alarm_name_pattern=naming.alarm_name_pattern(),
        )

        web = WebLoadBalancer(
            self,
            "Web",
            vpc=vpc,
            security_group=web_security_group,
            access_log_bucket=access_log_bucket,
            key=key,
            props=load_balancer_props(environment, naming),
        )
        fleet = Fleet(
            self,
            "Fleet",
            vpc=vpc,
            security_group=app_security_group,
            role=instance_role,
            key=key,
            target_group=web.target_group,
            artifact_bucket=artifact_bucket,
            notifications=informational_topic,
            props=fleet_props(environment, naming),
        )
        # The target group is reachable only through the listener that forwards to it, which in
        # an environment with its own domain waits for ACM's DNS validation. Until it exists the
        # target health stays `unused`, the boot scripts give up and the first create rolls back.
        fleet.group.node.add_dependency(web.listener)
        # Cross-zone off needs an instance in every AZ; where the floor cannot put one there
        # (dev, local), it stays on and the per-AZ alarms see the load balancer's nodes only.
        cross_zone = environment.cross_zone
        zones_without_cross_zone = () if cross_zone else environment.availability_zones
        alarms = WebTierAlarms(
            self,
            "Alarms",
            load_balancer=web.load_balancer,
            target_group=web.target_group,
            group=fleet.group,
            paging_topic=paging_topic,
            informational_topic=informational_topic,
            thresholds=thresholds,
            alarm_name=naming.alarm_name,
            zones_without_cross_zone=zones_without_cross_zone,
        )
        enable_zonal_shift(
            load_balancer=web.load_balancer,
            target_group=web.target_group,
            group=fleet.group,
            cross_zone=cross_zone,
        )
        zonal = ZonalResilience(
            self,
            "Zonal",
            load_balancer=web.load_balancer,
            target_group=web.target_group,
            availability_zones=environment.availability_zones,
            thresholds=zonal_thresholds(environment),
            paging_topic=paging_topic,
            informational_topic=informational_topic,
            alarm_name=naming.alarm_name,
            outcome_alarms=alarms.paging,
            practice_runs=practice_runs(environment),
        )
        # Losing an AZ without a scale-out is an error where autoshift is on (config). Elsewhere
        # it is a choice config made on purpose (dev's one instance), written once in
        # docs/design.md ("Static stability"): a warning on every synth would teach nothing.
        fleet.gate_releases_on(alarms.release_gate)

        dashboard = WebTierDashboard(
            self,
            "Operations",
            load_balancer=web.load_balancer,
            target_group=web.target_group,
            group=fleet.group,
            alarms=[*alarms.alarms, *zonal.alarms],
            thresholds=thresholds,
            dashboard_name=naming.dashboard_name(),
            agent_metric_namespace=naming.agent_metric_namespace(),
            zones_without_cross_zone=zones_without_cross_zone,
            zone_row=zonal.dashboard_row(),
        )

        cdk.CfnOutput(
            self,
            "LoadBalancerUrl",
            value=web.url,
            description="Where the web tier answers; the pipeline's smoke test reads this",
        )
        self.health_check_url = cdk.CfnOutput(
            self,
            "HealthCheckUrl",
            value=f"{web.url}{environment.health_check_path}",
            description="Answers 200 when the fleet serves; the pipeline's smoke test polls it",
        )
        cdk.CfnOutput(self, "TargetGroupArn", value=web.target_group.target_group_arn)
        cdk.CfnOutput(self, "AutoScalingGroupName", value=fleet.group.auto_scaling_group_name)
        cdk.CfnOutput(
            self,
            "NotificationTopicArn",
            value=paging_topic.topic_arn,
            description="Paging topic: outage alarms",
        )
        cdk.CfnOutput(
            self,
            "InformationalTopicArn",
            value=informational_topic.topic_arn,
            description="Informational topic: launches, terminations, precursor alarms",
        )
        cdk.CfnOutput(
            self,
            "DashboardUrl",
            value=dashboard.url,
            description="On-call starts here: traffic, errors, hosts, instances and every alarm",
        )
        if environment.is_production:
            # Last: it waits for every resource above, the fleet's signals included.
            deletion_protection(
                self,
                "DeletionProtection",
                load_balancer=web.load_balancer,
                retention=log_retention(environment.log_retention_days),
            )


# Configuration onto each construct's props: the constructs see only what they use.


def alarm_thresholds(environment: EnvironmentConfig) -> AlarmThresholds:
    return AlarmThresholds(
        min_capacity=environment.min_capacity,
        response_time_p99_seconds=environment.alarm_response_time_p99_seconds,
        server_error_rate_percent=environment.alarm_server_error_rate_percent,
        minimum_requests=environment.alarm_minimum_requests,
        elb_errors_per_minute=environment.alarm_elb_errors_per_minute,
    )


def zonal_thresholds(environment: EnvironmentConfig) -> ZonalThresholds:
    return ZonalThresholds(
        server_error_rate_percent=environment.zonal_server_error_rate_percent,
        response_time_p99_seconds=environment.zonal_response_time_p99_seconds,
        minimum_requests=environment.zonal_minimum_requests,
        error_outlier_points=environment.zonal_error_outlier_points,
        latency_outlier_ratio=environment.zonal_latency_outlier_ratio,
    )


def practice_runs(environment: EnvironmentConfig) -> PracticeRuns | None:
    if not environment.autoshifts:
        return None
    return PracticeRuns(
        blocked_windows=environment.practice_run_blocked_windows,
        blocked_dates=environment.practice_run_blocked_dates,
    )


def load_balancer_props(environment: EnvironmentConfig, naming: Naming) -> WebLoadBalancerProps:
    # Config validation sets a domain with its zone or none of them.
    zone_id, zone_name = environment.hosted_zone_id, environment.hosted_zone_name
    domain = (
        WebDomainProps(
            domain_name=environment.domain_name,
            hosted_zone_id=zone_id,
            hosted_zone_name=zone_name,
        )
        if environment.domain_name and zone_id and zone_name
        else None
    )
    return WebLoadBalancerProps(
        app_port=environment.app_port,
        health_check_path=environment.health_check_path,
        load_balancer_name=naming.load_balancer_name(),
        waf_log_group_name=naming.waf_log_group_name(),
        waf_redacted_headers=environment.waf_redacted_headers,
        log_retention_days=environment.log_retention_days,
        is_production=environment.is_production,
        certificate_arn=environment.certificate_arn,
        domain=domain,
    )


def fleet_props(environment: EnvironmentConfig, naming: Naming) -> FleetProps:
    # Config validation sets a release with its version and digest, or none of them.
    release = (
        Release(
            artifact=environment.release_artifact,
            version_id=environment.release_version_id,
            sha256=environment.release_sha256,
        )
        if environment.release_artifact
        and environment.release_version_id
        and environment.release_sha256
        else None
    )
    return FleetProps(
        instance_type=environment.instance_type,
        ami_id=environment.ami_id,
        region=environment.region,
        availability_zones=environment.availability_zones,
        min_capacity=environment.min_capacity,
        max_capacity=environment.max_capacity,
        app_port=environment.app_port,
        health_check_path=environment.health_check_path,
        instance_name=naming.name(COMPUTE, "instance"),
        log_group_name=naming.instance_log_group_name(),
        agent_metric_namespace=naming.agent_metric_namespace(),
        rollout=release_plan(environment),
        release=release,
    )


def release_plan(environment: EnvironmentConfig) -> RolloutPlan:
    """How a release replaces this environment's fleet, and its worst case (make release-plan)."""
    rollout = environment.rollout
    return plan_rollout(
        min_capacity=environment.min_capacity,
        max_capacity=environment.max_capacity,
        min_healthy_percentage=rollout.min_healthy_percentage,
        max_healthy_percentage=rollout.max_healthy_percentage,
        checkpoints=rollout.checkpoints,
        checkpoint_delay_minutes=rollout.checkpoint_delay_minutes,
        bake_minutes=rollout.bake_time_minutes,
        batch=RELEASE_BATCH,
        alarm_gate=rollout.alarm_gate,
    )
