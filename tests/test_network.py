"""The VPC layout each environment relies on: CIDR, subnet tiers per AZ, NAT routing, endpoints.

Expectations come from the parsed cdk.json (the same `EnvironmentConfig` the app is built from), so
every test holds for whatever environments are configured; one test pins that the committed ones
still exercise each variant (NAT per AZ, shared NAT, no interface endpoints, unrestricted default
security group).
"""

from __future__ import annotations

import ipaddress
from itertools import combinations
from typing import Any, cast

import pytest
from aws_cdk.assertions import Capture, Match, Template

from constructs_lib.config import AppConfig, EnvironmentConfig
from constructs_lib.core import subnet_prefix
from tests.conftest import Synthesized
from tools.context import fixture_context

Resources = dict[str, dict[str, Any]]

CONFIG = AppConfig.from_context(fixture_context())
ENVIRONMENTS = CONFIG.environments
PER_AZ_NAT = tuple(e for e in ENVIRONMENTS if e.network.nat_gateways == len(e.availability_zones))
SHARED_NAT = tuple(e for e in ENVIRONMENTS if e.network.nat_gateways == 1)
WITH_ENDPOINTS = tuple(e for e in ENVIRONMENTS if e.network.interface_endpoints)
WITHOUT_ENDPOINTS = tuple(e for e in ENVIRONMENTS if not e.network.interface_endpoints)
RESTRICTED_DEFAULT_SG = tuple(e for e in ENVIRONMENTS if e.network.restrict_default_security_group)
OPEN_DEFAULT_SG = tuple(e for e in ENVIRONMENTS if not e.network.restrict_default_security_group)
AWS_ONLY = tuple(e for e in ENVIRONMENTS if e.network.aws_only_egress)

# The subnet group names, which ec2.Vpc writes into each subnet's `aws-cdk:subnet-name` tag; the
# other stacks select the app tier by its name (constructs_lib.network._vpc.APP_TIER).
PUBLIC, PRIVATE, ISOLATED = "Public", "Private", "Isolated"
TIERS = (PUBLIC, PRIVATE, ISOLATED)
# What an instance in a private subnet needs without a NAT: Session Manager, cfn-signal, its logs,
# its metrics, and the readiness check before cfn-signal (elbv2 DescribeTargetHealth).
INTERFACE_SERVICES = {
    "ssm",
    "ssmmessages",
    "ec2messages",
    "cloudformation",
    "elasticloadbalancing",
    "logs",
    "monitoring",
}
DEFAULT_ROUTES = {"0.0.0.0/0", "::/0"}


def by_name(environments: tuple[EnvironmentConfig, ...]) -> pytest.MarkDecorator:
    """Parametrize over environments, with their names as test IDs."""
    return pytest.mark.parametrize("environment", environments, ids=[e.name for e in environments])


def network_of(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> Template:
    return templates[environment.name]["network"]


def resources(template: Template, resource_type: str, props: Any = None) -> Resources:
    return cast(Resources, template.find_resources(resource_type, props))


def subnets(template: Template, tier: str) -> Resources:
    # By group name: the app tier's type is PRIVATE_ISOLATED in the AWS-only egress mode.
    tier_tag = {"Key": "aws-cdk:subnet-name", "Value": tier}
    return resources(
        template, "AWS::EC2::Subnet", {"Properties": {"Tags": Match.array_with([tier_tag])}}
    )


def route_table_of(template: Template, subnet_id: str) -> str:
    associations: list[str] = [
        a["Properties"]["RouteTableId"]["Ref"]
        for a in resources(template, "AWS::EC2::SubnetRouteTableAssociation").values()
        if a["Properties"]["SubnetId"] == {"Ref": subnet_id}
    ]
    assert len(associations) == 1, f"{subnet_id} has route tables {associations}"
    return associations[0]


def default_routes(template: Template, subnet_id: str) -> list[dict[str, Any]]:
    """The properties of every IPv4 or IPv6 default route in the subnet's route table."""
    route_table = route_table_of(template, subnet_id)
    return [
        route["Properties"]
        for route in resources(template, "AWS::EC2::Route").values()
        if route["Properties"]["RouteTableId"] == {"Ref": route_table}
        and {
            route["Properties"].get("DestinationCidrBlock"),
            route["Properties"].get("DestinationIpv6CidrBlock"),
        }
        & DEFAULT_ROUTES
    ]


def nat_gateway_of(template: Template, subnet_id: str) -> str:
    routes = default_routes(template, subnet_id)
    assert len(routes) == 1, f"{subnet_id} has default routes {routes}"
    nat_ref = routes[0].get("NatGatewayId")
    assert isinstance(nat_ref, dict), f"{subnet_id} default route {routes[0]} is not via a NAT"
    return cast(str, nat_ref["Ref"])


def subnet_networks(template: Template) -> dict[str, ipaddress.IPv4Network]:
    return {
        subnet_id: ipaddress.IPv4Network(subnet["Properties"]["CidrBlock"])
        for subnet_id, subnet in resources(template, "AWS::EC2::Subnet").items()
    }


def interface_endpoints(template: Template) -> Resources:
    return resources(
        template, "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )


def service_of(endpoint: dict[str, Any]) -> str:
    """The service part of `com.amazonaws.<region>.<service>`, written literally or as a join."""
    name = endpoint["Properties"]["ServiceName"]
    if isinstance(name, dict) and "Fn::Join" in name:
        separator, parts = name["Fn::Join"]
        name = separator.join(p if isinstance(p, str) else "<token>" for p in parts)
    assert isinstance(name, str), f"unexpected ServiceName {name!r}"
    return name.rsplit(".", 1)[-1]


def only(found: Resources) -> str:
    assert len(found) == 1, sorted(found)
    return next(iter(found))


def test_committed_environments_exercise_every_network_variant() -> None:
    # The parametrized tests below silently run for nobody if cdk.json loses one of these.
    assert {e.name for e in PER_AZ_NAT} >= {"prod"}
    assert {e.name for e in SHARED_NAT} >= {"staging", "dev"}
    assert {e.name for e in WITHOUT_ENDPOINTS} == {"dev"}
    assert {e.name for e in OPEN_DEFAULT_SG} == {"local"}
    assert {e.name for e in AWS_ONLY} == {"local"}


@by_name(ENVIRONMENTS)
def test_vpc_uses_the_configured_cidr(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)

    network.resource_count_is("AWS::EC2::VPC", 1)
    network.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": environment.network.vpc_cidr})


@by_name(ENVIRONMENTS)
@pytest.mark.parametrize("tier", TIERS)
def test_each_tier_has_exactly_one_subnet_in_each_configured_az_and_none_elsewhere(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig, tier: str
) -> None:
    tier_subnets = subnets(network_of(templates, environment), tier)

    azs = sorted(s["Properties"]["AvailabilityZone"] for s in tier_subnets.values())
    assert azs == sorted(environment.availability_zones)


@by_name(ENVIRONMENTS)
def test_the_three_tiers_are_the_only_subnets(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)

    network.resource_count_is("AWS::EC2::Subnet", len(TIERS) * len(environment.availability_zones))


@by_name(ENVIRONMENTS)
def test_every_subnet_lies_inside_the_vpc_cidr(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    vpc = ipaddress.IPv4Network(environment.network.vpc_cidr)

    outside = {
        subnet_id: str(network)
        for subnet_id, network in subnet_networks(network_of(templates, environment)).items()
        if not network.subnet_of(vpc)
    }
    assert outside == {}


@by_name(ENVIRONMENTS)
def test_no_two_subnets_overlap(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    networks = subnet_networks(network_of(templates, environment))

    overlapping = [
        (first, second)
        for first, second in combinations(sorted(networks), 2)
        if networks[first].overlaps(networks[second])
    ]
    assert overlapping == []


@by_name(ENVIRONMENTS)
def test_subnet_size_is_what_config_validation_assumes(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    # Config rejects a VPC too small for /27 subnets by predicting CDK's allocator; if CDK
    # allocated differently, that check would accept CIDRs the load balancer cannot use.
    vpc_prefix = ipaddress.IPv4Network(environment.network.vpc_cidr).prefixlen
    expected = subnet_prefix(vpc_prefix, len(environment.availability_zones))

    prefixes = {n.prefixlen for n in subnet_networks(network_of(templates, environment)).values()}
    assert prefixes == {expected}


@by_name(ENVIRONMENTS)
def test_public_subnets_do_not_auto_assign_public_ips(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    public = subnets(network_of(templates, environment), PUBLIC)

    assert len(public) == len(environment.availability_zones)
    # CloudFormation's default is false, but ec2.Vpc sets true on public subnets unless told not to.
    assigning = sorted(
        subnet_id
        for subnet_id, subnet in public.items()
        if subnet["Properties"].get("MapPublicIpOnLaunch", False) is not False
    )
    assert assigning == []


@by_name(PER_AZ_NAT)
def test_with_a_nat_per_az_each_private_subnet_egresses_through_the_nat_in_its_own_az(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    nat_gateways = resources(network, "AWS::EC2::NatGateway")
    all_subnets = resources(network, "AWS::EC2::Subnet")
    public = subnets(network, PUBLIC)

    # private subnet's AZ -> (is the NAT's subnet public, the NAT's AZ)
    egress: dict[str, tuple[bool, str]] = {}
    for subnet_id, subnet in subnets(network, PRIVATE).items():
        nat_subnet = nat_gateways[nat_gateway_of(network, subnet_id)]["Properties"]["SubnetId"]
        nat_subnet_id = nat_subnet["Ref"]
        nat_az = all_subnets[nat_subnet_id]["Properties"]["AvailabilityZone"]
        egress[subnet["Properties"]["AvailabilityZone"]] = (nat_subnet_id in public, nat_az)

    assert egress == {az: (True, az) for az in environment.availability_zones}


@by_name(SHARED_NAT)
def test_with_one_shared_nat_every_private_subnet_egresses_through_it(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    shared_nat = only(resources(network, "AWS::EC2::NatGateway"))
    private = subnets(network, PRIVATE)

    targets = {subnet_id: nat_gateway_of(network, subnet_id) for subnet_id in private}
    assert targets == dict.fromkeys(private, shared_nat)
    assert len(private) == len(environment.availability_zones)


@by_name(SHARED_NAT)
def test_the_shared_nat_sits_in_a_public_subnet(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    nat_subnet = Capture()

    network.has_resource_properties("AWS::EC2::NatGateway", {"SubnetId": {"Ref": nat_subnet}})
    assert nat_subnet.as_string() in subnets(network, PUBLIC)


@by_name(ENVIRONMENTS)
def test_isolated_subnets_have_no_default_route(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    isolated = subnets(network, ISOLATED)

    assert len(isolated) == len(environment.availability_zones)
    assert {subnet_id: default_routes(network, subnet_id) for subnet_id in isolated} == {
        subnet_id: [] for subnet_id in isolated
    }


@by_name(AWS_ONLY)
def test_without_nat_the_app_tier_has_no_route_out_of_the_vpc(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    app_tier = subnets(network, PRIVATE)

    assert len(app_tier) == len(environment.availability_zones)
    assert resources(network, "AWS::EC2::NatGateway") == {}
    assert {subnet_id: default_routes(network, subnet_id) for subnet_id in app_tier} == {
        subnet_id: [] for subnet_id in app_tier
    }


@by_name(AWS_ONLY)
def test_without_nat_the_interface_endpoints_serve_the_app_tier(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    app_subnets = sorted(subnets(network, PRIVATE))

    for endpoint in interface_endpoints(network).values():
        served = sorted(ref["Ref"] for ref in endpoint["Properties"]["SubnetIds"])
        assert served == app_subnets, service_of(endpoint)


@by_name(ENVIRONMENTS)
def test_s3_gateway_endpoint_serves_every_route_table(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    s3 = {
        endpoint_id: endpoint
        for endpoint_id, endpoint in resources(network, "AWS::EC2::VPCEndpoint").items()
        if service_of(endpoint) == "s3"
    }
    endpoint = s3[only(s3)]["Properties"]

    # No VpcEndpointType means Gateway, the free kind that adds a route instead of ENIs.
    assert endpoint.get("VpcEndpointType", "Gateway") == "Gateway"
    served = sorted(ref["Ref"] for ref in endpoint["RouteTableIds"])
    assert served == sorted(resources(network, "AWS::EC2::RouteTable"))


@by_name(WITH_ENDPOINTS)
def test_interface_endpoints_are_the_services_private_instances_need(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    endpoints = interface_endpoints(network_of(templates, environment))

    services = sorted(service_of(endpoint) for endpoint in endpoints.values())
    assert services == sorted(INTERFACE_SERVICES)


@by_name(WITH_ENDPOINTS)
@pytest.mark.parametrize("service", sorted(INTERFACE_SERVICES))
def test_interface_endpoint_answers_the_public_service_name_with_private_dns(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig, service: str
) -> None:
    network = network_of(templates, environment)

    network.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "ServiceName": f"com.amazonaws.{environment.region}.{service}",
            "VpcEndpointType": "Interface",
            "PrivateDnsEnabled": True,
        },
    )


@by_name(WITH_ENDPOINTS)
def test_readiness_check_reaches_elastic_load_balancing_without_a_nat(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    # The boot script calls elbv2 DescribeTargetHealth before cfn-signal; through a NAT, losing the
    # NAT's AZ would stop every instance of the environment from signalling.
    network_of(templates, environment).has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "ServiceName": f"com.amazonaws.{environment.region}.elasticloadbalancing",
            "VpcEndpointType": "Interface",
            "PrivateDnsEnabled": True,
            "SubnetIds": Match.any_value(),
        },
    )


@by_name(WITHOUT_ENDPOINTS)
def test_environments_without_interface_endpoints_have_none(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)

    assert interface_endpoints(network) == {}


@by_name(WITH_ENDPOINTS)
def test_endpoint_security_group_accepts_only_https_from_the_vpc_cidr(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    # Every interface endpoint references the group as {"Fn::GetAtt": [<logical ID>, "GroupId"]}.
    group_ids = {
        group["Fn::GetAtt"][0]
        for endpoint in interface_endpoints(network).values()
        for group in endpoint["Properties"]["SecurityGroupIds"]
    }
    assert len(group_ids) == 1, group_ids
    group = resources(network, "AWS::EC2::SecurityGroup")[group_ids.pop()]["Properties"]

    # Every field but the description: no other port, protocol or source. The CIDR is the literal
    # from config, not Fn::GetAtt Vpc.CidrBlock, which cdk-nag cannot evaluate.
    rules = [
        {key: value for key, value in rule.items() if key != "Description"}
        for rule in group["SecurityGroupIngress"]
    ]
    assert rules == [
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "CidrIp": environment.network.vpc_cidr,
        }
    ]
    # No rule added to the group from outside its own definition.
    assert resources(network, "AWS::EC2::SecurityGroupIngress") == {}


@by_name(RESTRICTED_DEFAULT_SG)
def test_default_security_group_is_stripped_of_its_rules(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)
    vpc_id = only(resources(network, "AWS::EC2::VPC"))

    network.resource_count_is("Custom::VpcRestrictDefaultSG", 1)
    network.has_resource_properties(
        "Custom::VpcRestrictDefaultSG",
        {"DefaultSecurityGroupId": {"Fn::GetAtt": [vpc_id, "DefaultSecurityGroup"]}},
    )


@by_name(OPEN_DEFAULT_SG)
def test_default_security_group_is_left_alone_where_its_lambda_cannot_run(
    templates: dict[str, dict[str, Template]], environment: EnvironmentConfig
) -> None:
    network = network_of(templates, environment)

    network.resource_count_is("Custom::VpcRestrictDefaultSG", 0)
    network.resource_count_is("AWS::Lambda::Function", 0)


@by_name(ENVIRONMENTS)
def test_network_stack_is_named_env_project_network(
    synthesized: Synthesized, environment: EnvironmentConfig
) -> None:
    # The stack that holds the VPC, among those deployed into this environment's account.
    target = f"aws://{environment.account}/{environment.region}"
    names = [
        stack.stack_name
        for stack in synthesized.assembly.stacks
        if stack.environment == target and "AWS::EC2::VPC" in stack.resource_types.values()
    ]

    # The pipeline's stage holds the same stack under the same name: one name, however deployed.
    assert set(names) == {f"{environment.name}-{CONFIG.project}-network"}


def test_synth_needs_no_context_lookups(synthesized: Synthesized) -> None:
    # A lookup (AZs, AMIs, VPCs) would be listed here and make the CLI call AWS before deploying;
    # explicit AZs on the VPC and stack keep synth offline and deterministic.
    assert synthesized.assembly.missing_context == ()
