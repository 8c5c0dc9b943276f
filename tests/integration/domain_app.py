"""CDK app entry point for the domain test: the real `WebLoadBalancer` with a domain, alone.

The `local` environment has no domain: moto has no CloudFormation type for ACM certificates, and
moto chooses hosted-zone IDs itself. Here the test creates the hosted zone and imports a
certificate through the emulator's API first, then hands both to the construct through the
context key below (`DOMAIN`: name, hostedZoneId, hostedZoneName, certificateArn), so the
template needs no ACM resource. Around the construct only what it takes: a VPC with public subnets,
a security group, the access-log bucket and a key, all in one bare stack.

The CLI runs this file as the app (`"app"` in a temporary cdk.json). Production code never
imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_ec2 as ec2  # noqa: E402
from aws_cdk import aws_kms as kms  # noqa: E402
from aws_cdk import aws_s3 as s3  # noqa: E402

from constructs_lib.edge import DomainSection, EdgeSection, WebLoadBalancer  # noqa: E402

DOMAIN = "webapp-test:domain"
STACK_NAME = "webapp-test-domain"
LOAD_BALANCER_NAME = "webapp-test-domain-alb"
# Given, not looked up: synth runs offline, with no account to ask for its zones.
AVAILABILITY_ZONES = ("us-east-1a", "us-east-1b")
# The emulator's one account and region (tools/dev/emulator.py); importing it would load moto.
ACCOUNT = "123456789012"
REGION = "us-east-1"


def edge_section(values: dict[str, str]) -> EdgeSection:
    """The section as the test's context gives it, built without validation: moto's hosted-zone
    IDs (such as 2D0XOGBEBVYVTRB) lack the `Z` that Route 53's always start with."""
    domain = DomainSection.model_construct(
        name=values["name"],
        hosted_zone_id=values["hostedZoneId"],
        hosted_zone_name=values["hostedZoneName"],
    )
    return EdgeSection.model_construct(
        certificate_arn=values["certificateArn"], domain=domain, waf_redacted_headers=()
    )


def main() -> int:
    app = cdk.App()
    domain = app.node.try_get_context(DOMAIN)
    if not isinstance(domain, dict):
        print(f"context {DOMAIN} must be an object", file=sys.stderr)
        return 1
    # What `cdk.context.json` records for a real account: the VPC checks its zones against it.
    app.node.set_context(
        f"availability-zones:account={ACCOUNT}:region={REGION}", list(AVAILABILITY_ZONES)
    )
    stack = cdk.Stack(
        app, "Domain", stack_name=STACK_NAME, env=cdk.Environment(account=ACCOUNT, region=REGION)
    )
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=list(AVAILABILITY_ZONES),
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)
        ],
        # A Lambda-backed custom resource otherwise, which the emulator cannot run.
        restrict_default_security_group=False,
    )
    WebLoadBalancer(
        stack,
        "Web",
        vpc=vpc,
        security_group=ec2.SecurityGroup(stack, "WebSecurityGroup", vpc=vpc),
        # Deleted with the stack when test_domain.py is done (the CDK default keeps them), so
        # that the teardown test finds nothing of this app.
        access_log_bucket=s3.Bucket(stack, "AccessLogs", removal_policy=cdk.RemovalPolicy.DESTROY),
        key=kms.Key(stack, "Key", removal_policy=cdk.RemovalPolicy.DESTROY),
        section=edge_section(domain),
        app_port=8080,
        health_check_path="/health",
        load_balancer_name=LOAD_BALANCER_NAME,
        waf_log_group_name="aws-waf-logs-webapp-test-domain",
        log_retention_days=1,
        is_production=False,
    )
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
