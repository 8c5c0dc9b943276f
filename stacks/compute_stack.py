from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.alarms import WebTierAlarms, encrypted_topic
from constructs_lib.config import EnvironmentConfig
from constructs_lib.conventions import log_retention
from constructs_lib.dashboard import WebTierDashboard
from constructs_lib.fleet import Fleet
from constructs_lib.load_balancer import WebLoadBalancer, deletion_protection
from constructs_lib.naming import Naming


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
            email=environment.alarm_email,
            naming=naming,
        )
        # What informs: launches, terminations and the precursors of an outage.
        informational_topic = encrypted_topic(
            self,
            "InformationalNotifications",
            topic_name=naming.notification_topic_name(),
            key=key,
            email=environment.notification_email,
            naming=naming,
        )

        web = WebLoadBalancer(
            self,
            "Web",
            vpc=vpc,
            security_group=web_security_group,
            access_log_bucket=access_log_bucket,
            key=key,
            environment=environment,
            naming=naming,
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
            environment=environment,
            naming=naming,
        )
        # The target group is reachable only through the listener that forwards to it, which in
        # an environment with its own domain waits for ACM's DNS validation. Until it exists the
        # target health stays `unused`, the boot scripts give up and the first create rolls back.
        fleet.group.node.add_dependency(web.listener)
        alarms = WebTierAlarms(
            self,
            "Alarms",
            load_balancer=web.load_balancer,
            target_group=web.target_group,
            group=fleet.group,
            paging_topic=paging_topic,
            informational_topic=informational_topic,
            environment=environment,
            naming=naming,
        )

        dashboard = WebTierDashboard(
            self,
            "Operations",
            load_balancer=web.load_balancer,
            target_group=web.target_group,
            group=fleet.group,
            alarms=alarms.alarms,
            environment=environment,
            naming=naming,
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
                retention=log_retention(environment),
            )
