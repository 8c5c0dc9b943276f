"""The `network` section: the VPC's range, its egress and its endpoints, as config reports them."""

from __future__ import annotations

import pytest

from constructs_lib.core.tests.literal_context import (
    OMITTED,
    environment,
    only_problem,
    parsed,
)


@pytest.mark.parametrize("cidr", ["10.30.0.0/33", "10.30.0.1/16", "10.30.0.0/x", "ten.30.0.0/16"])
def test_malformed_vpc_cidr_is_rejected(cidr: str) -> None:
    problem = only_problem(environment("prod", network={"vpcCidr": cidr}))

    assert (problem.path, problem.value) == ("environments.prod.network.vpcCidr", cidr)
    assert "expected an IPv4 CIDR block" in problem.allowed


@pytest.mark.parametrize("cidr", ["8.8.0.0/16", "100.64.0.0/16", "172.32.0.0/16", "192.169.0.0/16"])
def test_public_vpc_cidr_is_rejected(cidr: str) -> None:
    problem = only_problem(environment("prod", network={"vpcCidr": cidr}))

    assert (problem.path, problem.value) == ("environments.prod.network.vpcCidr", cidr)
    assert "private (RFC 1918)" in problem.allowed


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.99.0.0/29"])
def test_vpc_prefix_outside_16_to_28_is_rejected(cidr: str) -> None:
    problem = only_problem(environment("prod", network={"vpcCidr": cidr}))

    assert (problem.path, problem.value) == ("environments.prod.network.vpcCidr", cidr)
    assert "/16 to /28" in problem.allowed


def test_vpc_cidr_too_small_for_three_tiers_per_az_names_the_subnet_size() -> None:
    six_azs = [f"us-east-1{letter}" for letter in "abcdef"]
    context = environment("dev", availabilityZones=six_azs, network={"vpcCidr": "10.10.0.0/24"})

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.dev.network.vpcCidr", "10.10.0.0/24")
    assert "3 tiers x 6 AZs" in problem.allowed
    assert "each subnet would be /29" in problem.allowed
    assert "at least /27" in problem.allowed


def test_vpc_cidr_that_leaves_27_bit_subnets_is_accepted() -> None:
    # 3 tiers x 2 AZs in a /24: six /27 subnets, the smallest an Application Load Balancer takes.
    dev = parsed(environment("dev", network={"vpcCidr": "10.10.0.0/24"}))

    assert dev.network.vpc_cidr == "10.10.0.0/24"


@pytest.mark.parametrize(
    ("nat_gateways", "expected"),
    [
        (-1, "expected 0 (AWS-only egress) to the number of availabilityZones"),
        (3, "expected 0 to 2"),
    ],
)
def test_nat_gateways_outside_zero_to_the_az_count_are_rejected(
    nat_gateways: int, expected: str
) -> None:
    problem = only_problem(environment("dev", network={"natGateways": nat_gateways}))

    assert (problem.path, problem.value) == ("environments.dev.network.natGateways", nat_gateways)
    assert problem.allowed.startswith(expected)


def test_no_nat_gateways_without_interface_endpoints_is_rejected_naming_the_combination() -> None:
    context = environment("dev", network={"natGateways": 0, "interfaceEndpoints": False})

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.dev.network.natGateways", 0)
    assert problem.allowed.startswith("natGateways 0 with interfaceEndpoints false is not allowed")


def test_no_nat_gateways_with_interface_endpoints_is_the_aws_only_egress_mode() -> None:
    dev = parsed(environment("dev", network={"natGateways": 0}))

    assert dev.network.aws_only_egress
    assert dev.network.interface_endpoints


def test_no_nat_gateways_is_a_valid_configuration_in_any_region() -> None:
    # The S3 prefix list comes from cdk.context.json at synth (tests/test_network.py).
    context = environment(
        "dev",
        region="eu-west-1",
        availabilityZones=["eu-west-1a", "eu-west-1b"],
        network={"natGateways": 0},
    )

    assert parsed(context).network.aws_only_egress


def test_interface_endpoints_and_the_default_group_restriction_are_on_when_left_out() -> None:
    network = parsed(environment("dev")).network

    assert (network.interface_endpoints, network.restrict_default_security_group) == (True, True)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("natGateways", "1", "expected an integer"),
        ("interfaceEndpoints", "false", "expected true or false"),
        ("restrictDefaultSecurityGroup", 0, "expected true or false"),
        ("vpcCidr", 167772160, "expected a string"),
    ],
)
def test_value_of_the_wrong_type_is_rejected(key: str, value: object, expected: str) -> None:
    problem = only_problem(environment("dev", network={key: value}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.dev.network.{key}",
        value,
        expected,
    )


@pytest.mark.parametrize("key", ["vpcCidr", "natGateways"])
def test_missing_required_network_key_is_named(key: str) -> None:
    problem = only_problem(environment("prod", network={key: OMITTED}))

    assert (problem.path, problem.value) == (f"environments.prod.network.{key}", None)
    assert problem.allowed.startswith("required key is missing")


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_keeping_the_default_groups_rules_outside_the_emulator_is_rejected(name: str) -> None:
    problem = only_problem(environment(name, network={"restrictDefaultSecurityGroup": False}))

    assert (problem.path, problem.value) == (
        f"environments.{name}.network.restrictDefaultSecurityGroup",
        False,
    )
    assert "may be false only in an environment declared emulator-only (emulator: true)" in (
        problem.allowed
    )
    assert "the VPC's default security group keeps its allow-all rules" in problem.allowed


def test_the_emulator_environment_may_keep_the_default_groups_rules() -> None:
    local = parsed(environment("local", network={"restrictDefaultSecurityGroup": False}))

    assert not local.network.restrict_default_security_group
