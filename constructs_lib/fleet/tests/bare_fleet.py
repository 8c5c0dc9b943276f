"""A Fleet in a bare stack of its own, from a literal `fleet` section, with the network and the
load balancer it needs around it; shared by the fleet's template and boot-script tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from constructs_lib.core.testing import AVAILABILITY_ZONES, REGION, bare_stack
from constructs_lib.edge import EdgeSection, WebLoadBalancer
from constructs_lib.fleet import Fleet, FleetSection
from constructs_lib.network import Network, NetworkSection

STACK_NAME = "test-webapp-compute"
LOG_GROUP_NAME = "/test/webapp/compute/instances"
AGENT_METRIC_NAMESPACE = "webapp/test/instances"
# As cdk.json spells the section.
FLEET: dict[str, Any] = {
    "instanceType": "t3.small",
    "amiId": "ami-0123456789abcdef0",
    "minCapacity": 2,
    "maxCapacity": 4,
    "appPort": 8080,
    "healthCheckPath": "/health",
    "rollout": {
        "minHealthyPercentage": 100,
        "checkpoints": [50, 100],
        "checkpointDelayMinutes": 7,
        "bakeTimeMinutes": 12,
    },
}
APP_PORT: int = FLEET["appPort"]


def fleet_stack(fleet: dict[str, Any] = FLEET, *, gate: Sequence[str] = ()) -> cdk.Stack:
    """The stack, with a release gate of one alarm per name in `gate`."""
    stack = bare_stack(STACK_NAME)
    vpc = Network(
        stack,
        "Network",
        # The app tier's subnets, and nothing the fleet does not use.
        section=NetworkSection.model_validate(
            {
                "vpcCidr": "10.0.0.0/22",
                "natGateways": 1,
                "interfaceEndpoints": False,
                "restrictDefaultSecurityGroup": False,
            }
        ),
        availability_zones=AVAILABILITY_ZONES,
        log_retention_days=7,
    ).vpc
    # Scaling on requests per target needs a target group behind a load balancer.
    web = WebLoadBalancer(
        stack,
        "Web",
        vpc=vpc,
        security_group=ec2.SecurityGroup(stack, "WebSecurityGroup", vpc=vpc),
        access_log_bucket=s3.Bucket(stack, "AccessLogs"),
        key=kms.Key(stack, "Key"),
        section=EdgeSection.model_validate({}),
        app_port=APP_PORT,
        health_check_path=FLEET["healthCheckPath"],
        load_balancer_name="test-webapp-compute-alb",
        waf_log_group_name="aws-waf-logs-test-webapp-compute-waf",
        log_retention_days=7,
        is_production=False,
    )
    built = Fleet(
        stack,
        "Fleet",
        vpc=vpc,
        security_group=ec2.SecurityGroup(stack, "AppSecurityGroup", vpc=vpc),
        role=iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")),
        key=kms.Key(stack, "FleetKey"),
        target_group=web.target_group,
        artifact_bucket=s3.Bucket(stack, "Artifacts"),
        notifications=sns.Topic(stack, "Notifications"),
        section=FleetSection.model_validate(fleet),
        region=REGION,
        availability_zones=AVAILABILITY_ZONES,
        instance_name="test-webapp-compute-instance",
        log_group_name=LOG_GROUP_NAME,
        agent_metric_namespace=AGENT_METRIC_NAMESPACE,
    )
    if gate:
        metric = cloudwatch.Metric(namespace="Test", metric_name="Errors", statistic="Sum")
        built.gate_releases_on(
            [metric.create_alarm(stack, name, threshold=1, evaluation_periods=1) for name in gate]
        )
    return stack


def fleet_template(fleet: dict[str, Any] = FLEET, *, gate: Sequence[str] = ()) -> Template:
    return Template.from_stack(fleet_stack(fleet, gate=gate))
