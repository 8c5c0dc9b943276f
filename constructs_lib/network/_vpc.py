"""The VPC layout: three subnet tiers in every configured AZ, NAT per config, private endpoints."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.compliance import accept, decisions
from constructs_lib.core import log_retention
from constructs_lib.handlers import InlineCustomResource
from constructs_lib.network._config import NetworkSection

PUBLIC = "Public"
PRIVATE = "Private"
ISOLATED = "Isolated"
# The app tier's subnets, by group name: their type depends on the egress mode.
APP_TIER = ec2.SubnetSelection(subnet_group_name=PRIVATE)

# What an instance in a private subnet talks to at boot and at run time; through these it needs
# no NAT for AWS APIs (Session Manager, cfn-signal, its logs, and the boot script's readiness check,
# elbv2 DescribeTargetHealth: without that endpoint, losing the AZ of a shared NAT stops every
# instance from signalling).
INTERFACE_ENDPOINTS = {
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "Ec2Messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    "CloudFormation": ec2.InterfaceVpcEndpointAwsService.CLOUDFORMATION,
    "ElasticLoadBalancing": ec2.InterfaceVpcEndpointAwsService.ELASTIC_LOAD_BALANCING,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    # The CloudWatch agent's PutMetricData (memory, disk) without a NAT hop.
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
}


class Network(Construct):
    """A VPC on `vpcCidr` across exactly the configured AZs.

    Subnet sizes come from CDK's allocator, which splits the VPC CIDR evenly among the three tiers
    of every AZ: no subnet arithmetic lives in this code base.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        section: NetworkSection,
        availability_zones: tuple[str, ...],
        log_retention_days: int,
    ):
        """`log_retention_days`: of the log group of the handler that strips the default
        security group."""
        super().__init__(scope, construct_id)

        app_subnet_type = (
            ec2.SubnetType.PRIVATE_ISOLATED
            if section.nat_gateways == 0
            else ec2.SubnetType.PRIVATE_WITH_EGRESS
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(section.vpc_cidr),
            # Explicit AZs: synth needs no lookup, and the VPC spans exactly these.
            availability_zones=list(availability_zones),
            # One NAT per AZ keeps each AZ's egress independent of the others; fewer is cheaper,
            # and then an outage of the NAT's AZ cuts egress for every private subnet.
            nat_gateways=section.nat_gateways,
            subnet_configuration=[
                # Only the load balancer and the NAT gateways live here; neither needs an
                # auto-assigned public IP, and no instance should get one by accident.
                ec2.SubnetConfiguration(
                    name=PUBLIC, subnet_type=ec2.SubnetType.PUBLIC, map_public_ip_on_launch=False
                ),
                # The app tier. Without NAT (AWS-only egress) it is PRIVATE_ISOLATED: CDK refuses
                # PRIVATE_WITH_EGRESS subnets when natGateways is 0, and isolated is exactly what
                # this mode means (a route table with the VPC and the S3 gateway endpoint only).
                # The group name stays `Private`, so the subnets keep their logical IDs, and
                # consumers select the tier by that name, never by type.
                ec2.SubnetConfiguration(name=PRIVATE, subnet_type=app_subnet_type),
                ec2.SubnetConfiguration(name=ISOLATED, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            ],
            # Stripped by an inline handler below instead of aws-cdk-lib's provider, whose code is
            # a file asset that the pipeline could not publish (constructs_lib/handlers/_inline.py).
            restrict_default_security_group=False,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )

        accept(self.vpc, decisions.PINNED_AVAILABILITY_ZONES)
        accept(self.vpc, decisions.FLOW_LOGS_IN_SECURITY_STACK)
        if section.restrict_default_security_group:
            default_group = self.vpc.vpc_default_security_group
            InlineCustomResource(
                self,
                "DefaultSecurityGroupLockdown",
                handler="restrict_default_security_group.py",
                resource_type="Custom::VpcRestrictDefaultSG",
                description="Strips the default rules from the VPC's default security group",
                retention=log_retention(log_retention_days),
                timeout=cdk.Duration.minutes(1),
                properties={"DefaultSecurityGroupId": default_group},
                statements=[
                    iam.PolicyStatement(
                        sid="RevokeTheDefaultGroupsRules",
                        actions=["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
                        resources=[
                            cdk.Stack.of(self).format_arn(
                                service="ec2",
                                resource="security-group",
                                resource_name=default_group,
                            )
                        ],
                    )
                ],
            )
            accept(self.vpc, decisions.DEFAULT_GROUP_LOCKED_DOWN_BY_HANDLER)
        else:
            accept(self.vpc, decisions.DEFAULT_GROUP_OPEN_WITHOUT_LAMBDA)
        for subnet in self.vpc.public_subnets:
            accept(subnet, decisions.PUBLIC_SUBNET_ROUTE_TO_INTERNET)

        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if section.interface_endpoints:
            self.endpoint_security_group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self.vpc,
                description="Interface endpoints: HTTPS from inside the VPC only",
                allow_all_outbound=False,
            )
            # The literal CIDR from config, not Fn::GetAtt Vpc.CidrBlock: rules can then be
            # evaluated at synth (cdk-nag cannot evaluate the intrinsic).
            self.endpoint_security_group.add_ingress_rule(
                ec2.Peer.ipv4(section.vpc_cidr),
                ec2.Port.tcp(443),
                "HTTPS from resources in this VPC to the AWS service endpoints",
            )
            for endpoint_id, service in INTERFACE_ENDPOINTS.items():
                self.vpc.add_interface_endpoint(
                    endpoint_id,
                    service=service,
                    subnets=APP_TIER,
                    security_groups=[self.endpoint_security_group],
                    private_dns_enabled=True,
                    open=False,
                )
