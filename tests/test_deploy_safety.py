"""What only a real account would show: permission races, retained leftovers, teardown, the build.

Each test walks every template the app synthesizes (the stage stacks and the pipeline), because
each defect here is a class: a new custom resource, a new stateful resource or a new grant must
meet the same rule as the ones that exist today.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from stacks.factory import create_app
from tests.conftest import Synthesized
from tests.template_utils import as_list, waits_for
from tools.cloud_assembly import CloudAssembly, read
from tools.context import fixture_context

Template = Mapping[str, Any]
CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
STATEFUL_TYPES = {"AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Logs::LogGroup"}


def every_template(assembly: CloudAssembly) -> dict[str, Template]:
    """Every stack of the cloud assembly, nested stages included, by its path in the app."""
    return {path: stack.template for path, stack in assembly.by_path.items()}


@pytest.fixture(scope="module")
def templates(synthesized: Synthesized) -> dict[str, Template]:
    found = every_template(synthesized.assembly)
    assert {"webapp-pipeline", "Prod/Compute"} <= found.keys(), sorted(found)
    return found


def custom_resources(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"].startswith("Custom::") or resource["Type"] == CUSTOM_RESOURCE:
            yield logical_id, resource


def policies_of(template: Template, role_id: str) -> set[str]:
    """The logical IDs of every policy resource attached to the role `role_id`."""
    return {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and {"Ref": role_id} in resource["Properties"].get("Roles", [])
    }


def test_every_custom_resource_waits_for_every_policy_of_its_functions_role(
    templates: dict[str, Template],
) -> None:
    checked = 0
    for path, template in templates.items():
        resources = template["Resources"]
        for logical_id, resource in custom_resources(template):
            function_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
            role_id = resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
            missing = policies_of(template, role_id) - waits_for(template, logical_id)
            assert not missing, f"{path}: {logical_id} can run before its policies {missing}"
            checked += 1
    # Dev, staging and prod: the default-group lockdown and the role guard each, and more.
    assert checked >= 9


ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def topic_policies(template: Template, topic_id: str) -> set[str]:
    """The logical IDs of every topic policy that applies to the topic `topic_id`."""
    return {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SNS::TopicPolicy"
        and {"Ref": topic_id} in resource["Properties"]["Topics"]
    }


def test_every_alarm_notifies_only_after_its_topics_let_cloudwatch_publish(
    templates: dict[str, Template],
) -> None:
    checked = 0
    for path, template in templates.items():
        resources = template["Resources"]
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::CloudWatch::Alarm":
                continue
            waited_for = waits_for(template, logical_id)
            properties = resource["Properties"]
            for action in (a for key in ALARM_ACTIONS for a in properties.get(key, [])):
                # A topic of another stack: its policy could not be waited for from here.
                topic_id = action.get("Ref") if isinstance(action, dict) else None
                assert isinstance(topic_id, str), f"{path}: {logical_id} notifies {action}"
                assert topic_id in resources, f"{path}: {logical_id} notifies {action}"
                assert resources[topic_id]["Type"] == "AWS::SNS::Topic", (path, logical_id)
                policies = topic_policies(template, topic_id)
                # enforce_ssl writes one on every topic here; without one nothing would admit
                # cloudwatch.amazonaws.com (the SSL deny replaces the default policy).
                assert policies, f"{path}: topic {topic_id} has no policy"
                missing = policies - waited_for
                assert not missing, f"{path}: {logical_id} may notify before {missing} exist"
                checked += 1
    # Four paging and two informing alarms, ALARM and OK actions each, in every environment.
    assert checked >= 4 * 6 * 2


def test_no_resource_is_left_behind_when_a_failed_first_create_rolls_back(
    templates: dict[str, Template],
) -> None:
    for path, template in templates.items():
        for logical_id, resource in template["Resources"].items():
            # `Retain` also keeps what a failed create made, and the retry then fails on its name.
            assert resource.get("DeletionPolicy") != "Retain", f"{path}: {logical_id}"


@pytest.mark.parametrize("path", ["Prod/Security", "Prod/Compute", "webapp-pipeline"])
def test_production_keeps_its_keys_buckets_and_logs_on_delete_and_replacement(
    templates: dict[str, Template], path: str
) -> None:
    stateful = {
        k: r for k, r in templates[path]["Resources"].items() if r["Type"] in STATEFUL_TYPES
    }
    # Unnamed log groups belong to deploy-time handlers and hold only their output.
    kept = {
        k: r
        for k, r in stateful.items()
        if r["Type"] != "AWS::Logs::LogGroup" or "LogGroupName" in r["Properties"]
    }
    assert kept
    for logical_id, resource in kept.items():
        assert resource["DeletionPolicy"] == "RetainExceptOnCreate", logical_id
        assert resource["UpdateReplacePolicy"] == "Retain", logical_id


def test_every_use_connection_grant_is_under_the_prefix_of_its_connection(
    templates: dict[str, Template],
) -> None:
    grants = [
        statement
        for template in templates.values()
        for resource in template["Resources"].values()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if any(a.endswith(":UseConnection") for a in as_list(statement["Action"]))
    ]
    assert grants
    for statement in grants:
        (action,) = as_list(statement["Action"])
        for arn in as_list(statement["Resource"]):
            # IAM: "the service prefix needs to match that of the resource".
            assert action.split(":")[0] == arn.split(":")[2], statement


def use_connection_actions(pipeline: Template, connection_arn: str) -> set[str]:
    """The actions the pipeline's policies allow on the connection `connection_arn`."""
    return {
        action
        for resource in pipeline["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if connection_arn in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }


def test_source_action_uses_a_codeconnections_connection_under_that_prefix(
    templates: dict[str, Template],
) -> None:
    # The fixture's connection has the prefix of every connection created since the rename.
    arn = fixture_context()["pipeline"]["connectionArn"]
    assert arn.startswith("arn:aws:codeconnections:")

    actions = use_connection_actions(templates["webapp-pipeline"], arn)

    assert actions == {"codeconnections:UseConnection"}


def test_source_action_uses_an_older_codestar_connections_connection_under_that_prefix(
    tmp_path: Path,
) -> None:
    context = fixture_context()
    arn = context["pipeline"]["connectionArn"].replace("codeconnections", "codestar-connections")
    context["pipeline"].update(connectionArn=arn, environments=["dev"], manualApproval=[])
    context["environments"] = {"dev": context["environments"]["dev"]}
    # Only IAM is in question: the session synth runs aws-cdk-lib's template validation.
    create_app(context, outdir=str(tmp_path), builtin_cloud_formation_validation=False).synth()

    actions = use_connection_actions(every_template(read(tmp_path))["webapp-pipeline"], arn)

    assert actions == {"codestar-connections:UseConnection"}


@pytest.mark.parametrize("env", ["Dev", "Staging"])
def test_non_production_buckets_are_emptied_before_their_stack_deletes_them(
    templates: dict[str, Template], env: str
) -> None:
    resources = templates[f"{env}/Security"]["Resources"]
    buckets = {k for k, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    (emptier_id,) = [k for k, r in resources.items() if r["Type"] == "Custom::EmptyBucketsOnDelete"]

    names = resources[emptier_id]["Properties"]["BucketNames"]
    assert {name["Ref"] for name in names} == buckets
    # Referencing the buckets, it is deleted (and empties them) before they are.
    assert buckets <= waits_for(templates[f"{env}/Security"], emptier_id)
    # Their policies go first: without them, no access log can arrive after the emptying.
    policies = [k for k, r in resources.items() if r["Type"] == "AWS::S3::BucketPolicy"]
    assert len(policies) == len(buckets)
    assert all(emptier_id in waits_for(templates[f"{env}/Security"], p) for p in policies)
    assert all(resources[b]["DeletionPolicy"] == "Delete" for b in buckets)


@pytest.mark.parametrize("env", ["Prod", "Local"])
def test_production_and_the_emulator_never_empty_their_buckets(
    templates: dict[str, Template], env: str
) -> None:
    # Prod keeps everything; the emulator cannot run Lambda (cdk.json sets emptyBucketsOnDelete).
    types = {r["Type"] for r in templates[f"{env}/Security"]["Resources"].values()}
    assert "Custom::EmptyBucketsOnDelete" not in types


def test_environments_carry_no_asset_the_pipeline_would_have_to_publish(
    synthesized: Synthesized,
) -> None:
    # No cdk-assets release reads this library's cloud-assembly schema (55): a file or image asset
    # would stop the pipeline at its asset stage. Only the templates, deployed from the artifact.
    manifests = {
        path: content
        for stack in synthesized.assembly.stacks
        for path, content in stack.asset_manifests.items()
    }
    assert manifests
    for manifest, content in manifests.items():
        assert not content.get("dockerImages"), manifest
        files = content.get("files", {})
        assert all(f["source"]["path"].endswith(".template.json") for f in files.values()), manifest


def test_pipeline_builds_on_a_pinned_image_with_pinned_runtimes(
    templates: dict[str, Template],
) -> None:
    projects = [
        r
        for r in templates["webapp-pipeline"]["Resources"].values()
        if r["Type"] == "AWS::CodeBuild::Project"
    ]
    assert projects
    for project in projects:
        environment = project["Properties"]["Environment"]
        assert environment["Image"] == "aws/codebuild/amazonlinux-x86_64-standard:5.0"
        assert environment["ComputeType"] == "BUILD_GENERAL1_SMALL"
        spec = json.loads(project["Properties"]["Source"]["BuildSpec"])
        assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "22"}
        assert "@latest" not in json.dumps(spec)
