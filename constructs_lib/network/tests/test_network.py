"""The Network construct alone: egress through NAT (per AZ, shared, none), endpoints and the
default security group, from a literal `network` section."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.core.testing import (
    AVAILABILITY_ZONES,
    REGION,
    Resource,
    bare_stack,
    only,
    resources,
)
from constructs_lib.network import Network, NetworkSection

# As cdk.json spells the section.
NETWORK: dict[str, Any] = {
    "vpcCidr": "10.0.0.0/22",
    "natGateways": len(AVAILABILITY_ZONES),
    "interfaceEndpoints": True,
    "restrictDefaultSecurityGroup": True,
}
# What an instance in a private subnet needs without a NAT: Session Manager, cfn-signal, its logs,
# its metrics, and the readiness check before cfn-signal (elbv2 DescribeTargetHealth).
INTERFACE_SERVICES = [
    "cloudformation",
    "ec2messages",
    "elasticloadbalancing",
    "logs",
    "monitoring",
    "ssm",
    "ssmmessages",
]


def network(**changes: Any) -> Template:
    stack = bare_stack()
    Network(
        stack,
        "Network",
        section=NetworkSection.model_validate({**NETWORK, **changes}),
        availability_zones=AVAILABILITY_ZONES,
        log_retention_days=7,
    )
    return Template.from_stack(stack)


def default_routes(template: Template) -> dict[str, Resource]:
    return {
        logical_id: route["Properties"]
        for logical_id, route in resources(template, "AWS::EC2::Route").items()
        if route["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
    }


@pytest.fixture(scope="module")
def per_az_nat() -> Template:
    return network()


@pytest.fixture(scope="module")
def shared_nat() -> Template:
    return network(natGateways=1)


@pytest.fixture(scope="module")
def no_nat() -> Template:
    return network(natGateways=0)


@pytest.fixture(scope="module")
def no_endpoints() -> Template:
    return network(interfaceEndpoints=False, restrictDefaultSecurityGroup=False)


def test_network_with_interface_endpoints_serves_each_service_the_instances_need(
    per_az_nat: Template,
) -> None:
    interface = [
        endpoint["Properties"]
        for endpoint in resources(per_az_nat, "AWS::EC2::VPCEndpoint").values()
        if endpoint["Properties"].get("VpcEndpointType") == "Interface"
    ]

    assert sorted(e["ServiceName"] for e in interface) == [
        f"com.amazonaws.{REGION}.{service}" for service in INTERFACE_SERVICES
    ]
    assert [e["PrivateDnsEnabled"] for e in interface] == [True] * len(INTERFACE_SERVICES)


def test_network_without_interface_endpoints_keeps_only_the_s3_gateway_endpoint(
    no_endpoints: Template,
) -> None:
    (endpoint,) = resources(no_endpoints, "AWS::EC2::VPCEndpoint").values()

    assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
    no_endpoints.resource_count_is("AWS::EC2::SecurityGroup", 0)


def test_network_with_a_nat_per_az_routes_each_app_subnet_through_a_nat_of_its_own(
    per_az_nat: Template,
) -> None:
    nat_routes = [r for r in default_routes(per_az_nat).values() if "NatGatewayId" in r]

    per_az_nat.resource_count_is("AWS::EC2::NatGateway", len(AVAILABILITY_ZONES))
    assert len({str(r["NatGatewayId"]) for r in nat_routes}) == len(AVAILABILITY_ZONES)


def test_network_with_one_shared_nat_routes_every_app_subnet_through_it(
    shared_nat: Template,
) -> None:
    nat_id, _ = only(shared_nat, "AWS::EC2::NatGateway")
    nat_routes = [r for r in default_routes(shared_nat).values() if "NatGatewayId" in r]

    assert [r["NatGatewayId"] for r in nat_routes] == [{"Ref": nat_id}] * len(AVAILABILITY_ZONES)


def test_network_without_nat_gateways_leaves_the_app_tier_no_route_out_of_the_vpc(
    no_nat: Template,
) -> None:
    no_nat.resource_count_is("AWS::EC2::NatGateway", 0)
    # Only the public subnets (load balancer) route to the internet gateway.
    assert all("PublicSubnet" in logical_id for logical_id in default_routes(no_nat))
    assert len(default_routes(no_nat)) == len(AVAILABILITY_ZONES)


def test_network_strips_the_default_security_group_unless_told_not_to(
    per_az_nat: Template, no_endpoints: Template
) -> None:
    per_az_nat.resource_count_is("Custom::VpcRestrictDefaultSG", 1)
    no_endpoints.resource_count_is("Custom::VpcRestrictDefaultSG", 0)
