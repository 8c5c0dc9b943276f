"""The web tier's entry point: an internet-facing ALB, its listeners and the target group."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.compliance import accept, decisions
from constructs_lib.edge._config import EdgeSection
from constructs_lib.edge._dns import WebDomain
from constructs_lib.edge._web_acl import WebAcl
from constructs_lib.handlers import InlineCustomResource
from constructs_lib.storage import LOAD_BALANCER_LOGS_PREFIX

HEALTH_CHECK_INTERVAL = cdk.Duration.seconds(15)
HEALTHY_THRESHOLD = 2
DEREGISTRATION_DELAY = cdk.Duration.seconds(30)


class WebLoadBalancer(Construct):
    """HTTPS with a modern TLS policy and HTTP redirected to it; plain HTTP only outside prod.

    With `domainName` the tier answers on that name (alias record, certificate for it, redirects
    to it); with only `certificateArn`, on the load balancer's generated hostname.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        access_log_bucket: s3.IBucket,
        key: kms.IKey,
        section: EdgeSection,
        app_port: int,
        health_check_path: str,
        load_balancer_name: str,
        waf_log_group_name: str,
        log_retention_days: int,
        is_production: bool,
    ):
        """Without `section.certificate_arn` or `section.domain`, plain HTTP (config validation
        refuses that for production)."""
        super().__init__(scope, construct_id)

        # Created first: the listeners below forward to it, the fleet registers with it.
        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "TargetGroup",
            vpc=vpc,
            port=app_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.INSTANCE,
            deregistration_delay=DEREGISTRATION_DELAY,
            health_check=elbv2.HealthCheck(
                path=health_check_path,
                healthy_http_codes="200",
                interval=HEALTH_CHECK_INTERVAL,
                timeout=cdk.Duration.seconds(5),
                healthy_threshold_count=HEALTHY_THRESHOLD,
                unhealthy_threshold_count=3,
            ),
        )

        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=security_group,
            load_balancer_name=load_balancer_name,
            drop_invalid_header_fields=True,
        )
        # Deletion protection is not in the template at all: from the first create, the rollback
        # of a failed create could not delete the load balancer, and as `false` (which CDK writes
        # by default) every update of the attributes would switch off what production turns on
        # once everything else exists (`deletion_protection` below).
        self.load_balancer.remove_attribute("deletion_protection.enabled")
        self.load_balancer.log_access_logs(access_log_bucket, LOAD_BALANCER_LOGS_PREFIX)
        accept(self.load_balancer, decisions.LOAD_BALANCER_PROTECTED_LATER)
        accept(self.load_balancer, decisions.LOAD_BALANCER_LOGS_TO_IMPORTED_BUCKET)
        WebAcl(
            self,
            "WebAcl",
            load_balancer=self.load_balancer,
            key=key,
            log_group_name=waf_log_group_name,
            redacted_headers=section.waf_redacted_headers,
            log_retention_days=log_retention_days,
            is_production=is_production,
        )

        domain = (
            WebDomain(
                self,
                "Domain",
                domain=section.domain,
                issue_certificate=section.certificate_arn is None,
                is_production=is_production,
            )
            if section.domain
            else None
        )
        certificate: acm.ICertificate | None = domain.certificate if domain else None
        if section.certificate_arn:
            # Brought along: for the domain if there is one, else for HTTPS on the load
            # balancer's generated hostname (which the certificate cannot name).
            certificate = acm.Certificate.from_certificate_arn(
                self, "Certificate", section.certificate_arn
            )
        # `open=False`: the security stack owns every ingress rule of the web tier.
        if certificate is not None:
            self.listener = self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_target_groups=[self.target_group],
                open=False,
            )
            # To the name the certificate covers, so that a request to the load balancer's own
            # hostname ends on a name the certificate matches; path and query are kept. Without a
            # domain the host stays the one asked for.
            host = domain.domain_name if domain else None
            redirect = self.load_balancer.add_listener(
                "Http",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                default_action=elbv2.ListenerAction.redirect(
                    protocol="HTTPS", host=host, port="443", permanent=True
                ),
                open=False,
            )
            accept(redirect, decisions.HTTP_PORT_ONLY_REDIRECTS)
            self.host = domain.domain_name if domain else self.load_balancer.load_balancer_dns_name
            self.url = f"https://{self.host}"
        else:
            # Plain HTTP is a choice config made on purpose (production cannot make it), written
            # once in the README: a warning on every synth, test and diff taught nothing.
            self.listener = self.load_balancer.add_listener(
                "Http",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                default_target_groups=[self.target_group],
                open=False,
            )
            accept(self.listener, decisions.PLAIN_HTTP_OUTSIDE_PRODUCTION)
            self.host = self.load_balancer.load_balancer_dns_name
            self.url = f"http://{self.host}"
        if domain:
            domain.point_at(self.load_balancer)


def deletion_protection(
    scope: Construct,
    construct_id: str,
    *,
    load_balancer: elbv2.ApplicationLoadBalancer,
    retention: logs.RetentionDays,
) -> InlineCustomResource:
    """Turn on the load balancer's deletion protection after everything else in `scope`.

    In the template from the first create, the rollback of a failed create could not delete the
    load balancer (ROLLBACK_FAILED) and the deploy could not be retried. Created last, after the
    fleet's signals and every other resource of the stack, it protects only what was created.
    """
    stack = cdk.Stack.of(scope)
    siblings = list(scope.node.children)
    protection = InlineCustomResource(
        scope,
        construct_id,
        handler="protect_load_balancer.py",
        resource_type="Custom::LoadBalancerDeletionProtection",
        description="Turns on the load balancer's deletion protection once the fleet serves",
        retention=retention,
        timeout=cdk.Duration.minutes(1),
        properties={"LoadBalancerArn": load_balancer.load_balancer_arn},
        statements=[
            iam.PolicyStatement(
                sid="ProtectThisLoadBalancer",
                actions=["elasticloadbalancing:ModifyLoadBalancerAttributes"],
                resources=[load_balancer.load_balancer_arn],
            ),
            # After a replacement the statement above already names the new load balancer when
            # the cleanup asks to lift the old one's protection; CloudFormation tags every load
            # balancer it creates with its stack's ID, so this reaches only this stack's own.
            iam.PolicyStatement(
                sid="UnprotectThisStacksReplacedLoadBalancers",
                actions=["elasticloadbalancing:ModifyLoadBalancerAttributes"],
                resources=[
                    stack.format_arn(
                        service="elasticloadbalancing",
                        resource="loadbalancer",
                        resource_name="app/*",
                    )
                ],
                conditions={
                    "StringEquals": {"aws:ResourceTag/aws:cloudformation:stack-id": stack.stack_id}
                },
            ),
            # On delete it lifts the protection only while a failed create rolls back, or from a
            # load balancer that is no longer the stack's (the old one after a replacement).
            iam.PolicyStatement(
                sid="ReadOwnStackStatusAndResources",
                actions=["cloudformation:DescribeStacks", "cloudformation:ListStackResources"],
                resources=[stack.stack_id],
            ),
        ],
    )
    accept(protection.policy, decisions.UNPROTECT_REPLACED_LOAD_BALANCERS)
    protection.resource.node.add_dependency(*siblings)
    return protection
