"""`make cost`: the monthly price of what an environment's templates create, counted from them."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from constructs_lib.config import AppConfig, EnvironmentConfig
from tests.conftest import Synthesized
from tools.context import fixture_context
from tools.cost import (
    DOCUMENTED,
    Line,
    environments,
    estimate,
    readme_environments,
    report,
)

ENVIRONMENTS = AppConfig.from_context(fixture_context()).environments
# us-east-1 on-demand list prices (USD per hour) of the fixture's instance types, and a month.
EXPECTED_INSTANCE_HOURLY = {"t3.small": 0.0208, "t3.medium": 0.0416, "m7i.large": 0.1008}
EXPECTED_NAT_GATEWAY_HOURLY = 0.045
EXPECTED_HOURS_PER_MONTH = 730


def line(lines: list[Line], prefix: str) -> Line | None:
    found = [entry for entry in lines if entry.item.startswith(prefix)]
    assert len(found) <= 1, found
    return found[0] if found else None


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=[e.name for e in ENVIRONMENTS])
def test_instances_are_priced_at_minimum_and_maximum_capacity(
    synthesized: Synthesized, environment: EnvironmentConfig
) -> None:
    lines = estimate(environments(synthesized.assembly)[environment.name])

    ec2 = line(lines, "EC2 ")
    assert ec2 is not None
    hourly = EXPECTED_INSTANCE_HOURLY[environment.fleet.instance_type] * EXPECTED_HOURS_PER_MONTH
    assert ec2.at_min == pytest.approx(environment.fleet.min_capacity * hourly)
    assert ec2.at_max == pytest.approx(environment.fleet.max_capacity * hourly)


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=[e.name for e in ENVIRONMENTS])
def test_every_nat_gateway_the_network_creates_is_priced(
    synthesized: Synthesized, environment: EnvironmentConfig
) -> None:
    lines = estimate(environments(synthesized.assembly)[environment.name])

    nat = line(lines, "NAT gateway")
    if environment.network.nat_gateways == 0:
        assert nat is None
    else:
        assert nat is not None
        assert nat.count == environment.network.nat_gateways
        monthly = EXPECTED_NAT_GATEWAY_HOURLY * EXPECTED_HOURS_PER_MONTH
        assert nat.at_min == pytest.approx(environment.network.nat_gateways * monthly)


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=[e.name for e in ENVIRONMENTS])
def test_interface_endpoints_are_priced_per_availability_zone_only_where_they_exist(
    synthesized: Synthesized, environment: EnvironmentConfig
) -> None:
    endpoints = line(estimate(environments(synthesized.assembly)[environment.name]), "interface")

    if environment.network.interface_endpoints:
        assert endpoints is not None
        assert endpoints.count % len(environment.availability_zones) == 0
    else:
        assert endpoints is None


def test_an_instance_type_without_a_price_names_the_table_to_extend(
    synthesized: Synthesized,
) -> None:
    stacks = []
    for stack in environments(synthesized.assembly)["dev"]:
        template = copy.deepcopy(stack.template)
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::EC2::LaunchTemplate":
                resource["Properties"]["LaunchTemplateData"]["InstanceType"] = "u-24tb1.metal"
        stacks.append(dataclasses.replace(stack, template=template))

    with pytest.raises(ValueError, match=r"'u-24tb1\.metal'.*INSTANCE_HOURLY in tools/cost\.py"):
        estimate(stacks)


def test_the_readme_cost_section_is_what_make_cost_readme_writes_now(
    synthesized: Synthesized,
) -> None:
    block = DOCUMENTED.read().strip()

    expected = report(synthesized.assembly, readme_environments())
    assert block == expected, "README.md's Cost section is stale: run `make cost-readme`"


def test_the_readme_prices_the_environments_that_reach_aws_not_the_emulator_one() -> None:
    assert readme_environments() == ["dev", "staging", "prod"]
