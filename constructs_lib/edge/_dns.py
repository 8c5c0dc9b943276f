"""The web tier's own name: its hosted zone (given, never looked up), certificate and records."""

from __future__ import annotations

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from constructs_lib.core import stateful_removal_policy
from constructs_lib.edge._config import DomainSection


class WebDomain(Construct):
    """`domainName` in its hosted zone and, unless one is brought, a certificate for it.

    `issue_certificate`: ACM issues one after validating the name through records CloudFormation
    writes into the zone. Without it the caller serves its own certificate (it must cover the name).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: DomainSection,
        issue_certificate: bool,
        is_production: bool,
    ):
        super().__init__(scope, construct_id)
        self.domain_name = domain.name
        # By attributes, not `from_lookup`: synth stays offline and needs no account access.
        self.zone = route53.HostedZone.from_hosted_zone_attributes(
            self,
            "Zone",
            hosted_zone_id=domain.hosted_zone_id,
            zone_name=domain.hosted_zone_name,
        )
        self.certificate: acm.ICertificate | None = None
        if issue_certificate:
            certificate = acm.Certificate(
                self,
                "Certificate",
                domain_name=self.domain_name,
                # CloudFormation writes the validation CNAME into the zone and waits until ACM
                # has issued the certificate: no e-mail, no manual step.
                validation=acm.CertificateValidation.from_dns(self.zone),
            )
            # Kept like the other stateful resources in production: a listener of a stack that
            # is being rolled back or re-created may still serve it.
            certificate.apply_removal_policy(stateful_removal_policy(is_production=is_production))
            self.certificate = certificate

    def point_at(self, load_balancer: elbv2.IApplicationLoadBalancer) -> route53.ARecord:
        """An alias `A` record for the name to the load balancer.

        No `AAAA`: the load balancer is IPv4-only (`ipAddressType: ipv4`), and an AAAA alias to it
        would answer with no address. Add one with the dual-stack load balancer.
        """
        return route53.ARecord(
            self,
            "AliasRecord",
            zone=self.zone,
            record_name=self.domain_name,
            target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(load_balancer)),
            comment="The web tier's name, an alias of its load balancer",
        )
