"""Changes to the deployed environment, made as a person makes them: edit cdk.json (or the app),
run `cdk diff`, run `cdk deploy`. These tests change the deployment; conftest runs them last.

The capacity change updates the Auto Scaling group in place, keeping its name, as CloudFormation
does (`MaxSize` is not one of the type's create-only properties); moto 5.2.5 replaced the group
with a newly named one until tools/dev/moto_fixes.py made it update in place.

One thing the emulator cannot show, so nothing here claims it:
- moto does not refuse to delete an export that another stack imports (see the last test), so the
  two-step export removal is shown by its templates and successful deploys, not by a refusal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from constructs_lib.core import COMPUTE, NETWORK, SECURITY
from tests.integration.conftest import Deployment, Variant
from tools.cloud_assembly import CloudAssembly
from tools.dev.emulator import CdkError, Emulator, deploy, diff, explain_deploy_failure
from tools.dev.emulator import stack_resources as deployed_resources

pytestmark = pytest.mark.integration

STATEFUL_TYPES = ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::KMS::Key", "AWS::S3::Bucket")
# `cdk diff` output: a changed resource, and a changed property of it.
DIFF_RESOURCE = re.compile(r"^\[(?P<change>[~+-])\] (?P<type>AWS::\S+) (?P<path>\S+) (?P<id>\S+)")
DIFF_PROPERTY = re.compile(r"^ [└├]─ \[(?P<change>[~+-])\] (?P<name>\S+)")
REPLACEMENT = re.compile(r"\((?:requires|may cause) replacement\)")


@dataclass(frozen=True)
class StackState:
    stack_id: str
    status: str
    stateful_ids: dict[str, str]


def snapshot(deployment: Deployment) -> dict[str, StackState]:
    cloudformation = deployment.client("cloudformation")
    states = {}
    for name in deployment.assembly.stack_names:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        states[name] = StackState(
            stack_id=stack["StackId"],
            status=stack["StackStatus"],
            stateful_ids={
                r.logical_id: r.physical_id
                for r in deployed_resources(deployment.emulator, name).values()
                if r.resource_type in STATEFUL_TYPES
            },
        )
    return states


def deploy_or_fail(emulator: Emulator, assembly: CloudAssembly) -> None:
    try:
        deploy(emulator, assembly)
    except CdkError as error:
        pytest.fail(f"cdk deploy failed:\n{explain_deploy_failure(emulator, assembly, error)}")


def templates(deployment: Deployment) -> dict[str, dict[str, Any]]:
    cloudformation = deployment.client("cloudformation")
    return {
        name: cloudformation.get_template(StackName=name)["TemplateBody"]
        for name in deployment.assembly.stack_names
    }


def exported_names(template: dict[str, Any]) -> set[str]:
    return {
        str(output["Export"]["Name"])
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    }


def export_names(deployment: Deployment) -> set[str]:
    exports = deployment.client("cloudformation").list_exports()["Exports"]
    return {str(e["Name"]) for e in exports}


def stack_name(deployment: Deployment, component: str) -> str:
    return deployment.config.naming(deployment.environment).stack_name(component)


@dataclass(frozen=True)
class CapacityChange:
    diff: str
    before: dict[str, StackState]
    after: dict[str, StackState]
    # The Auto Scaling group's physical ID (its name) before and after.
    groups: tuple[str, str]


def group_name(deployment: Deployment) -> str:
    return next(
        r.physical_id
        for r in deployed_resources(deployment.emulator, stack_name(deployment, COMPUTE)).values()
        if r.resource_type == "AWS::AutoScaling::AutoScalingGroup"
    )


@pytest.fixture(scope="module")
def capacity_change(deployment: Deployment, capacity_variant: Variant) -> CapacityChange:
    """maxCapacity + 1 in a copy of cdk.json: `cdk diff`, then `cdk deploy`."""
    assembly = capacity_variant.assembly()
    before, group_before = snapshot(deployment), group_name(deployment)
    try:
        diff_output = diff(deployment.emulator, assembly)
    except CdkError as error:
        pytest.fail(f"cdk diff failed:\n{error.tail()}")
    deploy_or_fail(deployment.emulator, assembly)
    return CapacityChange(
        diff=diff_output,
        before=before,
        after=snapshot(deployment),
        groups=(group_before, group_name(deployment)),
    )


def test_cdk_diff_names_only_the_changed_capacity(capacity_change: CapacityChange) -> None:
    lines = capacity_change.diff.splitlines()
    changed_resources = [m.group("change", "type") for m in map(DIFF_RESOURCE.match, lines) if m]
    changed_properties = [m.group("change", "name") for m in map(DIFF_PROPERTY.match, lines) if m]
    assert changed_resources == [("~", "AWS::AutoScaling::AutoScalingGroup")]
    assert changed_properties == [("~", "MaxSize")]
    assert "replace" not in capacity_change.diff.lower()


def test_cdk_diff_shows_the_old_and_new_maximum(
    deployment: Deployment, capacity_change: CapacityChange
) -> None:
    old = deployment.environment.fleet.max_capacity
    values = re.findall(r"[├└]─ \[([+-])\] (\S+)", capacity_change.diff)
    assert values == [("-", str(old)), ("+", str(old + 1))]


def test_capacity_update_updates_only_the_compute_stack_and_in_place(
    deployment: Deployment, capacity_change: CapacityChange
) -> None:
    compute = stack_name(deployment, COMPUTE)
    before, after = capacity_change.before, capacity_change.after
    assert {name: state.stack_id for name, state in after.items()} == {
        name: state.stack_id for name, state in before.items()
    }
    assert {name: state.status for name, state in after.items()} == {
        name: ("UPDATE_COMPLETE" if name == compute else "CREATE_COMPLETE") for name in before
    }


def test_the_auto_scaling_group_is_updated_in_place_and_keeps_its_name(
    deployment: Deployment, capacity_change: CapacityChange
) -> None:
    before, after = capacity_change.groups
    assert after == before
    groups = deployment.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    assert [group["AutoScalingGroupName"] for group in groups] == [before]


def test_fleet_allows_the_new_maximum(
    deployment: Deployment, capacity_change: CapacityChange
) -> None:
    group = deployment.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[capacity_change.groups[1]]
    )["AutoScalingGroups"][0]
    environment = deployment.environment
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (
        environment.fleet.min_capacity,
        # No DesiredCapacity in the template: the group starts at min.
        environment.fleet.min_capacity,
        environment.fleet.max_capacity + 1,
    )


def test_vpc_subnets_key_and_buckets_keep_their_ids_through_the_update(
    deployment: Deployment, capacity_change: CapacityChange
) -> None:
    before = {n: s.stateful_ids for n, s in capacity_change.before.items()}
    after = {n: s.stateful_ids for n, s in capacity_change.after.items()}
    network, security = stack_name(deployment, NETWORK), stack_name(deployment, SECURITY)
    assert after == before
    assert len(after[network]) == 1 + 3 * len(deployment.environment.availability_zones)
    assert len(after[security]) >= 3  # the key and both buckets


def test_stateful_resources_still_exist_after_the_update(
    deployment: Deployment, capacity_change: CapacityChange
) -> None:
    ec2, kms, s3 = (deployment.client(s) for s in ("ec2", "kms", "s3"))
    for name, state in capacity_change.after.items():
        for logical_id, physical_id in state.stateful_ids.items():
            kind = deployed_resources(deployment.emulator, name)[logical_id].resource_type
            if kind == "AWS::EC2::VPC":
                assert ec2.describe_vpcs(VpcIds=[physical_id])["Vpcs"]
            elif kind == "AWS::EC2::Subnet":
                assert ec2.describe_subnets(SubnetIds=[physical_id])["Subnets"]
            elif kind == "AWS::KMS::Key":
                metadata = kms.describe_key(KeyId=physical_id)["KeyMetadata"]
                assert metadata["KeyState"] == "Enabled"
            else:
                s3.head_bucket(Bucket=physical_id)


@dataclass(frozen=True)
class ReleaseChange:
    diff: str
    before: dict[str, Any]
    after: dict[str, Any]
    states: tuple[dict[str, StackState], dict[str, StackState]]


def fleet_state(deployment: Deployment) -> dict[str, Any]:
    """The launch template's versions and the version the group launches from, as the API says."""
    compute = deployed_resources(deployment.emulator, stack_name(deployment, COMPUTE)).values()
    template_id = next(
        r.physical_id for r in compute if r.resource_type == "AWS::EC2::LaunchTemplate"
    )
    group_name = next(
        r.physical_id for r in compute if r.resource_type == "AWS::AutoScaling::AutoScalingGroup"
    )
    (launch_template,) = deployment.client("ec2").describe_launch_templates(
        LaunchTemplateIds=[template_id]
    )["LaunchTemplates"]
    (group,) = deployment.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[group_name]
    )["AutoScalingGroups"]
    return {
        "template_id": template_id,
        "latest_version": launch_template["LatestVersionNumber"],
        "group_template": group["LaunchTemplate"],
    }


@pytest.fixture(scope="module")
def release_change(deployment: Deployment, release_variant: Variant) -> ReleaseChange:
    """A second release of the local environment in a copy of cdk.json: diff, then deploy.

    What the emulator cannot show, so nothing here claims it: moto runs no instance refresh (it
    boots no instance and evaluates no alarm: the update policy is recorded, not executed); it
    replaces an Auto Scaling group on every update where CloudFormation updates it in place (the
    diff below shows the CLI plans no replacement of the group); and the group it re-creates
    resolves `Fn::GetAtt LaunchTemplate.LatestVersionNumber` against the launch template as it
    was before the update (it reads back version 1 beside a launch template at version 2), so the
    group's version is asserted on the template (tests/test_compute.py), not here.
    """
    assembly = release_variant.assembly()
    before, states_before = fleet_state(deployment), snapshot(deployment)
    try:
        diff_output = diff(deployment.emulator, assembly)
    except CdkError as error:
        pytest.fail(f"cdk diff failed:\n{error.tail()}")
    deploy_or_fail(deployment.emulator, assembly)
    return ReleaseChange(
        diff=diff_output,
        before=before,
        after=fleet_state(deployment),
        states=(states_before, snapshot(deployment)),
    )


def test_a_second_release_changes_only_the_launch_template_and_replaces_nothing(
    release_change: ReleaseChange,
) -> None:
    lines = release_change.diff.splitlines()
    changed_resources = [m.group("change", "type") for m in map(DIFF_RESOURCE.match, lines) if m]

    assert ("~", "AWS::EC2::LaunchTemplate") in changed_resources
    assert {kind for _, kind in changed_resources} <= {
        "AWS::EC2::LaunchTemplate",
        "AWS::AutoScaling::AutoScalingGroup",
    }
    # The diff prints the boot script, whose text says "replace": only the CLI's own markers count.
    assert not REPLACEMENT.search(release_change.diff)
    assert not [line for line in lines if DIFF_RESOURCE.match(line) and line.endswith("replace")]


def test_a_second_release_makes_a_new_version_of_the_same_launch_template(
    release_change: ReleaseChange,
) -> None:
    before, after = release_change.before, release_change.after

    assert after["template_id"] == before["template_id"]
    assert after["latest_version"] == before["latest_version"] + 1
    assert after["group_template"]["LaunchTemplateId"] == before["template_id"]


def test_a_second_release_updates_the_compute_stack_only_and_keeps_every_stateful_resource(
    deployment: Deployment, release_change: ReleaseChange
) -> None:
    before, after = release_change.states
    compute = stack_name(deployment, COMPUTE)

    assert {n: s.stack_id for n, s in after.items()} == {n: s.stack_id for n, s in before.items()}
    assert after[compute].status == "UPDATE_COMPLETE"
    assert {n: s.stateful_ids for n, s in after.items()} == {
        n: s.stateful_ids for n, s in before.items()
    }


@dataclass(frozen=True)
class ExportRemoval:
    export_name: str
    # After the capacity change, after the first deploy (`keep`), after the second (`remove`).
    templates: tuple[dict[str, dict[str, Any]], ...]
    exports: tuple[set[str], ...]
    states: tuple[dict[str, StackState], ...]


@pytest.fixture(scope="module")
def export_removal(
    deployment: Deployment,
    capacity_change: CapacityChange,
    release_change: ReleaseChange,
    keep_export_variant: Variant,
    remove_export_variant: Variant,
) -> ExportRemoval:
    """The load balancer stops using the access-log bucket; its export goes in two deploys."""
    initial = templates(deployment)
    balancer = next(
        resource
        for resource in initial[stack_name(deployment, COMPUTE)]["Resources"].values()
        if resource["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    )
    bucket = next(
        attribute["Value"]
        for attribute in balancer["Properties"]["LoadBalancerAttributes"]
        if attribute["Key"] == "access_logs.s3.bucket"
    )
    recorded = [(initial, export_names(deployment), snapshot(deployment))]
    for variant in (keep_export_variant, remove_export_variant):
        deploy_or_fail(deployment.emulator, variant.assembly())
        recorded.append((templates(deployment), export_names(deployment), snapshot(deployment)))
    return ExportRemoval(
        export_name=bucket["Fn::ImportValue"],
        templates=tuple(t for t, _, _ in recorded),
        exports=tuple(e for _, e, _ in recorded),
        states=tuple(s for _, _, s in recorded),
    )


def _imports(template: dict[str, Any], export_name: str) -> bool:
    return f'"Fn::ImportValue": "{export_name}"' in json.dumps(template)


def test_the_load_balancer_first_imports_the_access_log_bucket(
    deployment: Deployment, export_removal: ExportRemoval
) -> None:
    initial = export_removal.templates[0]
    assert _imports(initial[stack_name(deployment, COMPUTE)], export_removal.export_name)
    assert export_removal.export_name in exported_names(initial[stack_name(deployment, SECURITY)])


def test_first_deploy_stops_the_import_and_keeps_the_export(
    deployment: Deployment, export_removal: ExportRemoval
) -> None:
    first = export_removal.templates[1]
    assert not _imports(first[stack_name(deployment, COMPUTE)], export_removal.export_name)
    assert export_removal.export_name in exported_names(first[stack_name(deployment, SECURITY)])
    assert export_removal.export_name in export_removal.exports[1]


def test_second_deploy_removes_the_export_nobody_imports_any_more(
    deployment: Deployment, export_removal: ExportRemoval
) -> None:
    second = export_removal.templates[2]
    assert not any(_imports(t, export_removal.export_name) for t in second.values())
    assert export_removal.export_name not in exported_names(
        second[stack_name(deployment, SECURITY)]
    )
    assert export_removal.export_name not in export_removal.exports[2]


def test_both_export_removal_deploys_update_the_stacks_in_place(
    deployment: Deployment, export_removal: ExportRemoval
) -> None:
    compute, security = stack_name(deployment, COMPUTE), stack_name(deployment, SECURITY)
    first, second = export_removal.states[1], export_removal.states[2]
    assert (first[compute].status, second[security].status) == (
        "UPDATE_COMPLETE",
        "UPDATE_COMPLETE",
    )
    assert {n: s.stack_id for n, s in second.items()} == {
        n: s.stack_id for n, s in export_removal.states[0].items()
    }
    assert {n: s.stateful_ids for n, s in second.items()} == {
        n: s.stateful_ids for n, s in export_removal.states[0].items()
    }


def test_the_emulator_does_not_refuse_to_remove_an_export_still_in_use(
    emulator: Emulator,
) -> None:
    """CloudFormation fails an update that deletes an export another stack imports; moto 5.2.5
    completes it. This is why the export-removal tests can only show that the two deploys work
    and what each template holds, not that the one-step removal is refused. When this test fails,
    the emulator enforces it: add a test that deploying the `remove` variant directly fails."""
    cloudformation = emulator.client("cloudformation")
    group = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "probe-producer"}}
    export = {"Value": {"Ref": "Group"}, "Export": {"Name": "probe-export"}}
    imported = {"Fn::Join": ["-", [{"Fn::ImportValue": "probe-export"}, "consumer"]]}
    consumer = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": imported}}
    cloudformation.create_stack(
        StackName="probe-producer",
        TemplateBody=json.dumps({"Resources": {"Group": group}, "Outputs": {"Name": export}}),
    )
    cloudformation.create_stack(
        StackName="probe-consumer", TemplateBody=json.dumps({"Resources": {"Group": consumer}})
    )
    try:
        cloudformation.update_stack(
            StackName="probe-producer", TemplateBody=json.dumps({"Resources": {"Group": group}})
        )
        status = cloudformation.describe_stacks(StackName="probe-producer")["Stacks"][0]
        assert status["StackStatus"] == "UPDATE_COMPLETE"
        assert "probe-export" not in {e["Name"] for e in cloudformation.list_exports()["Exports"]}
    finally:
        cloudformation.delete_stack(StackName="probe-consumer")
        cloudformation.delete_stack(StackName="probe-producer")
