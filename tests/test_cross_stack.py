"""What crosses stack boundaries, and the defects of the failed predecessor made impossible.

The predecessor referenced a target group before creating it, called a listener method that did
not exist, granted access to a bucket that was never defined, misused cfn-signal and hard-coded
subnet arithmetic. The tests below (with mypy --strict over the code, which rejects calls to
methods that do not exist) turn each of those into a failing build.
"""

from __future__ import annotations

import base64
import re

import pytest
from aws_cdk.assertions import Template

from constructs_lib.core import COMPONENTS
from tests.conftest import REPO
from tests.template_utils import document, only, resources, statements
from tools.cloud_assembly import walk

Templates = dict[str, dict[str, Template]]
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
    "AWS::NoValue",
}


def exports(template: Template) -> set[str]:
    return {
        output["Export"]["Name"]
        for output in document(template).get("Outputs", {}).values()
        if "Export" in output
    }


def imports(template: Template) -> set[str]:
    return {
        node["Fn::ImportValue"]
        for node in walk(document(template))
        if isinstance(node, dict) and "Fn::ImportValue" in node
    }


def surface(stacks: dict[str, Template]) -> dict[str, list[str]]:
    """`consumer: [producer.LogicalId.Attribute]` for every import, read from the export's value."""
    exported: dict[str, str] = {}
    for producer, template in stacks.items():
        for output in document(template).get("Outputs", {}).values():
            if "Export" in output:
                value = output["Value"]
                ref = value.get("Fn::GetAtt") or [value["Ref"], "Ref"]
                exported[output["Export"]["Name"]] = f"{producer}.{ref[0]}.{ref[1]}"
    return {
        consumer: sorted(exported[name] for name in imports(template))
        for consumer, template in stacks.items()
        if imports(template)
    }


# The whole cross-stack surface of one environment. Each line is an export someone must one day
# remove with two deploys (README: "Stop using a value another stack exports"): change on purpose.
EXPECTED_SURFACE = {
    "security": ["network.NetworkVpc7FB7348F.Ref"],
    "compute": [
        "network.NetworkVpc7FB7348F.Ref",
        "network.NetworkVpcPrivateSubnet1Subnet6DD86AE6.Ref",
        "network.NetworkVpcPrivateSubnet2Subnet1BDBE877.Ref",
        "network.NetworkVpcPrivateSubnet3Subnet8ABFAF5C.Ref",
        "network.NetworkVpcPublicSubnet1Subnet36933139.Ref",
        "network.NetworkVpcPublicSubnet2SubnetC427CCE0.Ref",
        "network.NetworkVpcPublicSubnet3Subnet4BBF7F47.Ref",
        "security.BucketsAccessLogsA5F88218.Ref",
        "security.BucketsArtifactsB9EE6400.Ref",
        "security.EncryptionKey3A692D6E.Arn",
        "security.InstanceRoleA57500A0.Ref",
        "security.SecurityGroupsApp30A4AF97.GroupId",
        "security.SecurityGroupsWebAE39F2C2.GroupId",
    ],
}


def test_cross_stack_surface_of_an_environment_is_pinned(prod: dict[str, Template]) -> None:
    assert surface(prod) == EXPECTED_SURFACE


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "local"])
def test_every_import_is_exported_by_an_earlier_stack_of_the_same_environment(
    templates: Templates, env: str
) -> None:
    stacks = templates[env]
    for position, consumer in enumerate(COMPONENTS):
        earlier = set().union(*(exports(stacks[c]) for c in COMPONENTS[:position]))
        missing = imports(stacks[consumer]) - earlier
        assert not missing, f"{env} {consumer} imports what no earlier stack exports: {missing}"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_export_is_used(templates: Templates, env: str) -> None:
    stacks = templates[env]
    used = set().union(*(imports(t) for t in stacks.values()))

    for component, template in stacks.items():
        assert exports(template) <= used, f"{env} {component} exports values nobody imports"


def test_every_reference_names_a_resource_defined_in_its_template(templates: Templates) -> None:
    # A policy that grants on a bucket nobody defined, or a listener forwarding to a target group
    # that does not exist, shows up here as a Ref/GetAtt to an unknown logical ID.
    for env, stacks in templates.items():
        for component, template in stacks.items():
            parsed = document(template)
            defined = set(parsed["Resources"]) | set(parsed.get("Parameters", {}))
            for node in walk(parsed["Resources"]):
                if not isinstance(node, dict):
                    continue
                if "Ref" in node:
                    assert node["Ref"] in defined | PSEUDO_PARAMETERS, f"{env} {component} {node}"
                if "Fn::GetAtt" in node:
                    assert node["Fn::GetAtt"][0] in defined, f"{env} {component} {node}"
                if "DependsOn" in node and isinstance(node.get("Type"), str):
                    for dependency in node["DependsOn"]:
                        assert dependency in defined, f"{env} {component} {dependency}"


def test_policies_name_buckets_only_by_reference_never_by_a_literal_arn(
    templates: Templates,
) -> None:
    for env, stacks in templates.items():
        for component, template in stacks.items():
            for logical_id, statement in statements(template):
                for node in walk(statement.get("Resource")):
                    if isinstance(node, str):
                        assert not node.startswith("arn:aws:s3:::"), (
                            f"{env} {component} {logical_id}"
                        )


def test_listeners_forward_only_to_target_groups_of_their_own_stack(templates: Templates) -> None:
    for env, stacks in templates.items():
        template = stacks["compute"]
        target_groups = set(resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup"))
        for listener in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values():
            for action in listener["Properties"]["DefaultActions"]:
                if action["Type"] == "forward":
                    assert action["TargetGroupArn"]["Ref"] in target_groups, env


def rendered_user_data(template: Template) -> str:
    _, launch_template = only(template, "AWS::EC2::LaunchTemplate")
    user_data = launch_template["Properties"]["LaunchTemplateData"]["UserData"]
    if isinstance(user_data, str):
        return base64.b64decode(user_data).decode()
    parts = user_data["Fn::Base64"]["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "<token>" for p in parts)


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "local"])
def test_the_signal_names_this_stack_and_the_auto_scaling_group_that_waits_for_it(
    templates: Templates, env: str
) -> None:
    template = templates[env]["compute"]
    script = rendered_user_data(template)
    group_id, group = only(template, "AWS::AutoScaling::AutoScalingGroup")

    assert f"ASG_LOGICAL_ID={group_id}\n" in script
    assert f"STACK_NAME={env}-webapp-compute\n" in script
    assert "CreationPolicy" in group
    assert re.findall(r"cfn-signal .*--resource \"\$(\w+)\"", script) == ["ASG_LOGICAL_ID"]
    # Only the group waits for signals: nothing else may carry a CreationPolicy.
    waiting = [k for k, v in document(template)["Resources"].items() if "CreationPolicy" in v]
    assert waiting == [group_id]


def test_subnets_are_never_computed_by_hand_in_code() -> None:
    # CIDRs come from cdk.json and CDK's allocator: no IPv4 literal belongs in constructs or
    # stacks. The config sections are the exception by design: they validate CIDRs with
    # `ipaddress` against the RFC 1918 ranges and quote examples in their messages. Only the CDK
    # code is read: a component's private modules, not the code that runs on instances or in
    # Lambda (assets, handlers) nor its tests, which build literal networks.
    literal = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?\b")
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for folder in ("constructs_lib", "stacks")
        for path in sorted((REPO / folder).rglob("*.py"))
        if folder == "stacks" or (path.name.startswith("_") and path.name != "_config.py")
        if "tests" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if literal.search(line)
    ]

    assert offenders == []
