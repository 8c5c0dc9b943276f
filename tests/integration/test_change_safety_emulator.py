"""Change safety against a live environment, the emulator's: `python -m tools.change_safety
deployed` (what `make diff` runs) reads the templates the session deployed back through the
emulator's CloudFormation (`GetTemplate`) and classifies an app variant against them.

A new `vpcCidr` replaces the VPC and its subnets: blocked, and the table names exactly those
resources, what cascades from them across stacks and the exports that change with them. An
acknowledgments file naming exactly those changes lets it pass; one entry fewer and the missing
change is blocked again. A new `maxCapacity` passes without any acknowledgment. Nothing is
deployed here: the deployment stays as first deployed (conftest runs `test_changes.py` after).
The expectations come from the templates the emulator returns, never from the synthesized ones.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.core import COMPUTE, NETWORK, SECURITY
from tests.integration.conftest import Deployment, Variant
from tools.change_safety.__main__ import deployed
from tools.context import fixture_context
from tools.dev.diagram import imports_of
from tools.dev.emulator import ENVIRONMENT
from tools.dev.local_change_safety import new_vpc_cidr

pytestmark = pytest.mark.integration

# One row of the table: resource, change, risk, why (acknowledgments.render).
ROW = re.compile(
    r"^(?P<stack>[\w-]+)/(?P<logical_id>\w+)\s+(?P<change>[a-z-]+)\s+"
    r"(?P<risk>BLOCKED|acknowledged|review)\s+(?P<why>.+)$"
)
REPLACED_BY_A_NEW_RANGE = ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup")
# (stack, logical ID, change)
Change = tuple[str, str, str]


@dataclass(frozen=True)
class Run:
    exit_status: int
    output: str

    def rows(self, risk: str) -> dict[Change, str]:
        """(stack, logical ID, change) -> why, of each row with `risk`."""
        matches = (ROW.match(line) for line in self.output.splitlines())
        return {
            (m["stack"], m["logical_id"], m["change"]): m["why"]
            for m in matches
            if m is not None and m["risk"] == risk
        }


def classify_against_emulator(
    deployment: Deployment, variant: Variant, acknowledgments: Path
) -> Run:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exit_status = deployed(
            variant.assembly().directory,
            environment=ENVIRONMENT,
            acknowledgments=acknowledgments,
            session=deployment.emulator.session(),
            endpoint_url=deployment.emulator.endpoint,
        )
    return Run(exit_status=exit_status, output=output.getvalue())


def write_acknowledgments(path: Path, changes: Iterable[Change]) -> Path:
    entries = [
        {
            "stack": stack,
            "logicalId": logical_id,
            "change": change,
            "reason": "a test: the emulator's environment is thrown away after the session",
        }
        for stack, logical_id, change in sorted(changes)
    ]
    path.write_text(json.dumps({"acknowledgments": entries}))
    return path


def stack_name(deployment: Deployment, component: str) -> str:
    return deployment.config.naming(deployment.environment).stack_name(component)


@pytest.fixture(scope="module")
def deployed_templates(deployment: Deployment) -> dict[str, dict[str, Any]]:
    cloudformation = deployment.client("cloudformation")
    return {
        name: cloudformation.get_template(StackName=name)["TemplateBody"]
        for name in deployment.assembly.stack_names
    }


def of_type(template: dict[str, Any], *types: str) -> set[str]:
    return {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in types
    }


@pytest.fixture(scope="module")
def expected_blocks(
    deployment: Deployment, deployed_templates: dict[str, dict[str, Any]]
) -> set[Change]:
    """What a new range must block, read off the deployed templates: the VPC and every subnet,
    the target group (its VpcId imports the VPC's ID), and each export another stack imports
    whose value is the ID of a VPC, subnet or security group (the groups follow the VPC)."""
    network, compute = stack_name(deployment, NETWORK), stack_name(deployment, COMPUTE)
    replaced = {
        (network, logical_id, "stateful-replacement")
        for logical_id in of_type(deployed_templates[network], "AWS::EC2::VPC", "AWS::EC2::Subnet")
    }
    replaced |= {
        (compute, logical_id, "stateful-replacement")
        for logical_id in of_type(
            deployed_templates[compute], "AWS::ElasticLoadBalancingV2::TargetGroup"
        )
    }
    imported = set().union(*(imports_of(t) for t in deployed_templates.values()))
    exports: set[Change] = set()
    for name, template in deployed_templates.items():
        ids = of_type(template, *REPLACED_BY_A_NEW_RANGE)
        for output_id, output in template.get("Outputs", {}).items():
            value = output["Value"] if isinstance(output["Value"], dict) else {}
            target = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
            if output.get("Export", {}).get("Name") in imported and target in ids:
                exports.add((name, output_id, "export-changed"))
    return replaced | exports


@pytest.fixture(scope="module")
def unacknowledged(
    deployment: Deployment, vpc_cidr_variant: Variant, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    empty = write_acknowledgments(tmp_path_factory.mktemp("acks") / "none.json", [])
    return classify_against_emulator(deployment, vpc_cidr_variant, empty)


def test_the_deployed_network_holds_the_old_range(
    deployment: Deployment, deployed_templates: dict[str, dict[str, Any]]
) -> None:
    network = deployed_templates[stack_name(deployment, NETWORK)]
    (vpc,) = of_type(network, "AWS::EC2::VPC")
    assert (
        network["Resources"][vpc]["Properties"]["CidrBlock"]
        == deployment.environment.network.vpc_cidr
    )


def test_a_new_vpc_range_is_blocked_and_the_table_names_exactly_what_it_replaces(
    unacknowledged: Run,
    expected_blocks: set[Change],
    deployment: Deployment,
    deployed_templates: dict[str, dict[str, Any]],
) -> None:
    assert unacknowledged.exit_status == 1, unacknowledged.output
    blocked = unacknowledged.rows("BLOCKED")
    assert set(blocked) == expected_blocks
    # The VPC, three subnet tiers in each zone, the target group.
    zones = len(deployment.environment.availability_zones)
    replacements = [c for c in blocked if c[2] == "stateful-replacement"]
    assert len(replacements) == 1 + 3 * zones + 1
    assert f"{len(blocked)} blocked change(s)." in unacknowledged.output
    network = stack_name(deployment, NETWORK)
    (vpc,) = of_type(deployed_templates[network], "AWS::EC2::VPC")
    assert blocked[(network, vpc, "stateful-replacement")] == "CidrBlock changed (create-only)"


def test_the_target_group_is_blocked_through_the_imported_vpc_id(
    unacknowledged: Run, deployment: Deployment
) -> None:
    compute = stack_name(deployment, COMPUTE)
    (why,) = [w for (stack, _, _), w in unacknowledged.rows("BLOCKED").items() if stack == compute]
    assert why.startswith(f"VpcId imports {stack_name(deployment, NETWORK)}:")
    assert "chain:" in why


def test_the_stateless_followers_are_reported_not_blocked(
    unacknowledged: Run, deployment: Deployment, deployed_templates: dict[str, dict[str, Any]]
) -> None:
    security = stack_name(deployment, SECURITY)
    reviewed = unacknowledged.rows("review")
    groups = of_type(deployed_templates[security], "AWS::EC2::SecurityGroup")
    assert groups
    assert {(security, g, "replacement") for g in groups} <= set(reviewed)
    # Not prod: the new range in a rule is reported, not blocked.
    new_range = new_vpc_cidr(fixture_context())
    assert any(
        change == "access-widening" and new_range in why for (_, _, change), why in reviewed.items()
    )


def test_acknowledging_exactly_those_changes_lets_the_same_change_pass(
    deployment: Deployment,
    vpc_cidr_variant: Variant,
    expected_blocks: set[Change],
    tmp_path: Path,
) -> None:
    acknowledgments = write_acknowledgments(tmp_path / "acks.json", expected_blocks)
    run = classify_against_emulator(deployment, vpc_cidr_variant, acknowledgments)
    assert run.exit_status == 0, run.output
    assert set(run.rows("acknowledged")) == expected_blocks
    assert not run.rows("BLOCKED")
    assert "STALE" not in run.output


def test_one_acknowledgment_fewer_and_that_change_is_blocked_again(
    deployment: Deployment,
    vpc_cidr_variant: Variant,
    expected_blocks: set[Change],
    tmp_path: Path,
) -> None:
    network = stack_name(deployment, NETWORK)
    missing = next(
        c for c in sorted(expected_blocks) if c[0] == network and c[2] == "stateful-replacement"
    )
    acknowledgments = write_acknowledgments(tmp_path / "acks.json", expected_blocks - {missing})
    run = classify_against_emulator(deployment, vpc_cidr_variant, acknowledgments)
    assert run.exit_status == 1
    assert set(run.rows("BLOCKED")) == {missing}


def test_a_new_maximum_capacity_passes_without_acknowledgment(
    deployment: Deployment, capacity_variant: Variant, tmp_path: Path
) -> None:
    run = classify_against_emulator(
        deployment, capacity_variant, write_acknowledgments(tmp_path / "none.json", [])
    )
    assert run.exit_status == 0, run.output
    assert run.output.splitlines() == [
        "No stateful replacement or deletion, export change, widening or cycling.",
        "1 other resource(s) added or updated in place: nothing to review.",
    ]
