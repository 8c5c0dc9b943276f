"""Cost and ownership tags on every taggable resource of every stack of every environment.

Which resource types are taggable is not a hand-written list: it comes from the CloudFormation
resource schemas that cfn-lint bundles, so a new resource type in a template is checked the day it
appears. The expected values come from the test fixture's context, not from the parsed config the
app uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from constructs_lib.core import COMPONENTS
from tests.template_utils import document
from tools.context import fixture_context

CONTEXT = fixture_context()
ENVIRONMENTS = tuple(CONTEXT["environments"])
MANDATORY_KEYS = ("Environment", "Project", "Owner", "CostCenter", "ManagedBy")
# AWS's limit for a tag value.
MAX_TAG_VALUE_LENGTH = 256


@cache
def tag_pointer(region: str, resource_type: str) -> str | None:
    """Where a resource type keeps its tags (a JSON pointer into the resource), or None.

    The rule, from the registry schemas cfn-lint ships (inspected in cfn-lint 1.58, us-east-1):
    - a schema with a `tagging` block says `taggable` true or false, and that decides. Tags then sit
      at `tagging.tagProperty`: mostly `/properties/Tags`, but e.g. `/properties/BackupPlanTags`
      or `/properties/TagSpecifications/*/Tags`. Two types declare `taggable: false` although they
      have a `Tags` property (AWS::EC2::SpotFleet, AWS::Glue::CustomEntityType): the resource
      itself cannot be tagged, and the declaration wins;
    - a schema without a `tagging` block (older types such as AWS::AppMesh::Mesh) is taggable when
      it has a `Tags` property.
    Custom resources (`Custom::*`) resolve to AWS::CloudFormation::CustomResource: not taggable.
    """
    schema: dict[str, Any] = PROVIDER_SCHEMA_MANAGER.get_resource_schema(
        region, resource_type
    ).schema
    tagging = schema.get("tagging")
    if tagging is not None:
        if not tagging.get("taggable", False):
            return None
        pointer: str = tagging.get("tagProperty", "/properties/Tags")
        return pointer
    return "/properties/Tags" if "Tags" in schema.get("properties", {}) else None


def at_pointer(value: Any, parts: list[str]) -> Iterator[Any]:
    """The values at a JSON pointer's parts, `*` standing for every item of a list."""
    if not parts:
        yield value
    elif parts[0] == "*" and isinstance(value, list):
        for item in value:
            yield from at_pointer(item, parts[1:])
    elif isinstance(value, dict) and parts[0] in value:
        yield from at_pointer(value[parts[0]], parts[1:])


def as_dict(tags: Any) -> dict[str, Any]:
    """Tags as {key: value}: most types list {Key, Value} (Auto Scaling groups add
    PropagateAtLaunch), some (AWS::SSM::Parameter, AWS::ApiGatewayV2::Stage) take a map."""
    if isinstance(tags, list):
        return {tag["Key"]: tag["Value"] for tag in tags}
    assert isinstance(tags, dict), f"unexpected tags {tags!r}"
    return dict(tags)


@dataclass(frozen=True)
class Taggable:
    environment: str
    component: str
    logical_id: str
    resource_type: str
    # One {key: value} per place the type keeps tags; empty when the resource has none.
    tag_sets: tuple[dict[str, Any], ...]


def taggables(template: Template, environment: str, component: str) -> list[Taggable]:
    region = CONTEXT["environments"][environment]["region"]
    found = []
    for logical_id, resource in document(template)["Resources"].items():
        pointer = tag_pointer(region, resource["Type"])
        if pointer is None:
            continue
        # The schema's /properties/X is the template's Properties.X.
        parts = ["Properties", *pointer.split("/")[2:]]
        tag_sets = tuple(as_dict(tags) for tags in at_pointer(resource, parts))
        found.append(Taggable(environment, component, logical_id, resource["Type"], tag_sets))
    return found


def expected_tags(environment: str) -> dict[str, str]:
    return {
        "Environment": environment,
        "Project": CONTEXT["project"],
        "Owner": CONTEXT["owner"],
        "CostCenter": CONTEXT["costCenter"],
        "ManagedBy": "cdk",
    }


def name_prefix(environment: str, component: str) -> str:
    return f"{environment}-{CONTEXT['project']}-{component}-"


@pytest.fixture(scope="module")
def stacks(templates: dict[str, dict[str, Template]]) -> dict[tuple[str, str], list[Taggable]]:
    return {
        (environment, component): taggables(template, environment, component)
        for environment, by_component in templates.items()
        for component, template in by_component.items()
    }


by_stack = pytest.mark.parametrize(
    ("environment", "component"),
    [(e, c) for e in ENVIRONMENTS for c in COMPONENTS],
    ids=[f"{e}-{c}" for e in ENVIRONMENTS for c in COMPONENTS],
)


@pytest.mark.parametrize(
    ("resource_type", "pointer"),
    [
        ("AWS::EC2::VPC", "/properties/Tags"),
        ("AWS::AutoScaling::AutoScalingGroup", "/properties/Tags"),
        ("AWS::Backup::BackupPlan", "/properties/BackupPlanTags"),
        ("AWS::AppMesh::Mesh", "/properties/Tags"),
        ("AWS::EC2::Route", None),
        ("AWS::IAM::InstanceProfile", None),
        ("AWS::EC2::SpotFleet", None),
        ("Custom::VpcRestrictDefaultSG", None),
    ],
)
def test_taggable_types_are_read_from_cfn_lint_schemas_as_the_rule_says(
    resource_type: str, pointer: str | None
) -> None:
    # Guards the rule against a cfn-lint upgrade that changes the schemas' shape: were every
    # type to come out untaggable, the tests below would check nothing and pass.
    assert tag_pointer("us-east-1", resource_type) == pointer


@by_stack
def test_every_taggable_resource_carries_the_mandatory_tags_from_cdk_json(
    stacks: dict[tuple[str, str], list[Taggable]], environment: str, component: str
) -> None:
    resources = stacks[environment, component]
    expected = expected_tags(environment)

    assert resources, "no taggable resource found: the schema rule or the fixture is broken"
    wrong = {
        f"{r.logical_id} ({r.resource_type})": tags
        for r in resources
        for tags in r.tag_sets or ({},)
        if {key: tags.get(key) for key in MANDATORY_KEYS} != expected
    }
    assert wrong == {}


@by_stack
def test_every_taggable_resource_has_a_lower_case_name_tag_with_its_stack_prefix(
    stacks: dict[tuple[str, str], list[Taggable]], environment: str, component: str
) -> None:
    prefix = name_prefix(environment, component)

    wrong = {
        f"{r.logical_id} ({r.resource_type})": tags.get("Name")
        for r in stacks[environment, component]
        for tags in r.tag_sets or ({},)
        if not (
            isinstance(tags.get("Name"), str)
            and tags["Name"].startswith(prefix)
            and tags["Name"] == tags["Name"].lower()
        )
    }
    assert wrong == {}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_no_name_tag_exceeds_the_aws_tag_value_limit(
    stacks: dict[tuple[str, str], list[Taggable]], environment: str
) -> None:
    too_long = {
        r.logical_id: tags["Name"]
        for component in COMPONENTS
        for r in stacks[environment, component]
        for tags in r.tag_sets
        if len(str(tags.get("Name", ""))) > MAX_TAG_VALUE_LENGTH
    }
    assert too_long == {}


def launched_tags(template: Template, resource_type: str) -> dict[str, Any]:
    """Tags that instances or volumes launched by the fleet get: the launch template's tag
    specification for them, plus (instances only) the group's tags with PropagateAtLaunch."""
    tags: dict[str, Any] = {}
    for resource in document(template)["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::LaunchTemplate":
            for spec in properties["LaunchTemplateData"].get("TagSpecifications", []):
                if spec["ResourceType"] == resource_type:
                    tags |= as_dict(spec["Tags"])
        elif (
            resource["Type"] == "AWS::AutoScaling::AutoScalingGroup" and resource_type == "instance"
        ):
            tags |= {t["Key"]: t["Value"] for t in properties["Tags"] if t["PropagateAtLaunch"]}
    return tags


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("launched", ["instance", "volume"])
def test_instances_and_volumes_the_fleet_launches_carry_the_mandatory_tags(
    templates: dict[str, dict[str, Template]], environment: str, launched: str
) -> None:
    # They are created by Auto Scaling, not by CloudFormation: no template resource to check.
    tags = launched_tags(templates[environment]["compute"], launched)

    assert {key: tags.get(key) for key in MANDATORY_KEYS} == expected_tags(environment)
    assert str(tags.get("Name")).startswith(name_prefix(environment, "compute"))
