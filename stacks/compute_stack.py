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
from constructs_lib.edge import WebLoadBalancer, deletion_protection
from constructs_lib.fleet import Fleet
from constructs_lib.monitoring import (
    WebTierAlarms,
    WebTierDashboard,
    ZonalResilience,
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
        # What pages: the alarms of an outage. It keeps the logical ID it had as the only topic: a
        # replaced topic would lose its confirmed e-mail subscriptions.
        paging_topic = encrypted_topic(
            self,
            "Notifications",
            topic_name=naming.alarm_topic_name(),
            key=key,
            email=environment.alarms.email,
            alarm_name_pattern=naming.alarm_name_pattern(),
        )
        # What informs: launches, terminations and the precursors of an outage.
        informational_topic = encrypted_topic(
            self,
            "InformationalNotifications",
            topic_name=naming.notification_topic_name(),
            key=key,
            email=environment.alarms.notification_email,
            alarm_name_pattern=naming.alarm_name_pattern(),
        )

        web = WebLoadBalancer(
            self,
            "Web",
            vpc=vpc,
            security_group=web_security_group,
            access_log_bucket=access_log_bucket,
            key=key,
            section=environment.edge,
            app_port=environment.fleet.app_port,
            health_check_path=environment.fleet.health_check_path,
            load_balancer_name=naming.load_balancer_name(),
            waf_log_group_name=naming.waf_log_group_name(),
            log_retention_days=environment.log_retention_days,
            is_production=environment.is_production,
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
            section=environment.fleet,
            region=environment.region,
            availability_zones=environment.availability_zones,
            instance_name=naming.name(COMPUTE, "instance"),
            log_group_name=naming.instance_log_group_name(),
            agent_metric_namespace=naming.agent_metric_namespace(),
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
            thresholds=environment.alarms,
            min_capacity=environment.fleet.min_capacity,
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
            thresholds=environment.alarms.zonal,
            paging_topic=paging_topic,
            informational_topic=informational_topic,
            alarm_name=naming.alarm_name,
            outcome_alarms=alarms.paging,
            practice_runs=environment.autoshift if environment.autoshifts else None,
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
            thresholds=environment.alarms,
            min_capacity=environment.fleet.min_capacity,
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
            value=f"{web.url}{environment.fleet.health_check_path}",
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
