"""Security groups of the three tiers and every rule between them, in one place.

All group-to-group rules are created here, in the security stack: a rule lands in the stack where it
is created, and rules created from the compute stack would make the two stacks depend on each other.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_lib.compliance import accept, decisions
from constructs_lib.security._config import SecuritySection

HTTPS = 443
HTTP = 80


class TierSecurityGroups(Construct):
    """internet -> web (load balancer) -> app (instances) -> db (database tier)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        serves_https: bool,
        app_port: int,
        section: SecuritySection,
        vpc_cidr: str,
        s3_prefix_list: ec2.IPrefixList | None,
    ):
        """`s3_prefix_list`, S3's prefix list in this region, is the AWS-only egress mode (no NAT):
        the app tier may then reach only the VPC's endpoints and S3. None: egress through NAT."""
        super().__init__(scope, construct_id)
        self.web = ec2.SecurityGroup(
            self,
            "Web",
            vpc=vpc,
            description="Web tier: the internet-facing load balancer",
            allow_all_outbound=False,
        )
        self.app = ec2.SecurityGroup(
            self,
            "App",
            vpc=vpc,
            description="App tier: instances behind the load balancer",
            allow_all_outbound=False,
        )
        self.db = ec2.SecurityGroup(
            self,
            "Db",
            vpc=vpc,
            description="Database tier: reachable from the app tier only",
            allow_all_outbound=False,
        )

        if serves_https:
            self.web.add_ingress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), "HTTPS from the internet"
            )
            self.web.add_ingress_rule(
                ec2.Peer.any_ipv4(),
                ec2.Port.tcp(HTTP),
                "HTTP from the internet, answered only with a redirect to HTTPS",
            )
        else:
            # Non-production without a certificate (config validation refuses it for prod).
            self.web.add_ingress_rule(
                ec2.Peer.any_ipv4(),
                ec2.Port.tcp(HTTP),
                "HTTP from the internet (no certificate configured for this environment)",
            )
        accept(self.web, decisions.INTERNET_FACING_WEB_GROUP)
        self._allow(
            "WebToApp",
            self.web,
            self.app,
            app_port,
            "Load balancer to instances: traffic and health checks",
        )
        self._allow("AppToDb", self.app, self.db, section.db_port, "Instances to the database tier")
        if s3_prefix_list is not None:
            # No NAT, no route out: name exactly what the instances reach, so that a route added
            # later does not silently open the internet to them.
            self.app.add_egress_rule(
                ec2.Peer.ipv4(vpc_cidr),
                ec2.Port.tcp(HTTPS),
                "HTTPS to this VPC's interface endpoints (SSM, CloudFormation, ELB, CloudWatch)",
            )
            self.app.add_egress_rule(
                ec2.Peer.prefix_list(s3_prefix_list.prefix_list_id),
                ec2.Port.tcp(HTTPS),
                "HTTPS to S3 through the gateway endpoint: AL2023 package repositories and the "
                "release artifacts",
            )
        else:
            # Accepted on purpose where NAT gateways exist: AWS APIs without an endpoint, package
            # repositories and any third-party API the application calls sit behind changing
            # addresses that no CIDR list can name. natGateways 0 narrows it to VPC + S3.
            self.app.add_egress_rule(
                ec2.Peer.any_ipv4(),
                ec2.Port.tcp(HTTPS),
                "HTTPS anywhere through the NAT gateways (accepted: AWS APIs, package "
                "repositories and third-party APIs have no fixed addresses)",
            )

    def _allow(
        self,
        rule_id: str,
        source: ec2.SecurityGroup,
        destination: ec2.SecurityGroup,
        port: int,
        description: str,
    ) -> None:
        """Egress from `source` and ingress into `destination` on one TCP port.

        L1 rules with fixed IDs: `connections.allow_to` derives rule IDs from the peer's construct
        path, which contains the stage ID, so the same rule would get another logical ID (and be
        replaced) if the stage were ever nested differently.
        """
        ec2.CfnSecurityGroupEgress(
            self,
            f"{rule_id}Egress",
            group_id=source.security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            destination_security_group_id=destination.security_group_id,
            description=description,
        )
        ec2.CfnSecurityGroupIngress(
            self,
            f"{rule_id}Ingress",
            group_id=destination.security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            source_security_group_id=source.security_group_id,
            description=description,
        )

    def read_only(self, group: ec2.SecurityGroup) -> ec2.ISecurityGroup:
        """A view of `group` for other stacks: CDK adds no rules through it.

        Without it, the load balancer's target registration in the compute stack would add its
        own copy of the web-to-app rule there, duplicating the one above.
        """
        return ec2.SecurityGroup.from_security_group_id(
            self,
            f"{group.node.id}ReadOnly",
            group.security_group_id,
            mutable=False,
            allow_all_outbound=False,
        )
