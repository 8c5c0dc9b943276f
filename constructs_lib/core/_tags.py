"""Mandatory tags and `Name` tags that follow `<env>-<project>-<component>-<resource>`."""

from __future__ import annotations

import functools
import re

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.core._naming import Naming

MANAGED_BY = "cdk"
# Above CDK's default tag priority (100), so the convention wins over the path-shaped `Name` tags
# that some L2 constructs (ec2.Vpc, for one) set themselves.
NAME_TAG_PRIORITY = 200
# For a `Name` a construct chooses itself (instances launched from the launch template).
EXPLICIT_NAME_TAG_PRIORITY = 300
# Construct IDs that CDK gives the L1 inside an L2; they add nothing to a name.
_FILLER_IDS = {"Resource", "Default"}


def mandatory_tags(naming: Naming, *, owner: str, cost_center: str) -> dict[str, str]:
    return {
        "Environment": naming.environment,
        "Project": naming.project,
        "Owner": owner,
        "CostCenter": cost_center,
        "ManagedBy": MANAGED_BY,
    }


def apply_mandatory_tags(scope: IConstruct, tags: dict[str, str]) -> None:
    scope_tags = cdk.Tags.of(scope)
    for key, value in tags.items():
        scope_tags.add(key, value)


def resource_part(path_in_stack: str, component: str) -> str:
    """The `<resource>` of a construct's name: its path inside its stack, in lower-kebab case.

    IDs that CDK adds for the L1 inside an L2, and one that repeats the component, are left out:
    `Network/Vpc/PublicSubnet1/Subnet` in the network stack is `vpc-public-subnet1-subnet`.
    """
    kept = [p for p in path_in_stack.split("/") if p not in _FILLER_IDS and p.lower() != component]
    return "-".join(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", p) for p in kept).lower()


def apply_name_tags(stack: cdk.Stack, *, naming: Naming, component: str) -> None:
    """Give every taggable resource of `stack` a `Name` that follows the convention.

    Call it once the stack is built. A walk rather than an aspect: an aspect written in Python
    pays a round trip to jsii for every construct it visits. The walk itself asks jsii only what
    Python cannot know (a resource's path, its tag manager, one `set_tag`), three round trips per
    resource: whether a class is taggable is read once per class, from its Python type.
    """
    stack_path = stack.node.path
    for resource in stack.node.find_all():
        # L1s only; the launch template (an L2 with its own tags) is named by the fleet.
        if not isinstance(resource, cdk.CfnResource):
            continue
        attribute = _tag_manager_attribute(type(resource))
        if attribute is None:
            continue
        path_in_stack = _path(resource)[len(stack_path) :].strip("/")
        name = naming.name(component, resource_part(path_in_stack, component))
        tags: cdk.TagManager = getattr(resource, attribute)
        # Not propagated to instances: they take theirs from the launch template.
        tags.set_tag("Name", name, NAME_TAG_PRIORITY, False)


def _path(resource: cdk.CfnResource) -> str:
    """`resource.node.path` in one round trip to jsii instead of two (`node`, then its `path`).

    A CfnResource's `toString()` is its path followed by ` [<CloudFormation type>]`.
    """
    path, bracket, _ = resource.to_string().rpartition(" [")
    return path if bracket else resource.node.path


@functools.cache
def _tag_manager_attribute(resource_class: type) -> str | None:
    """Where an L1 class keeps its tag manager, read from the Python class without asking jsii.

    Newer L1s (ITaggableV2) carry it as `cdk_tag_manager`, on which `tags` is the raw property;
    older ones as `tags`.
    """
    for attribute in ("cdk_tag_manager", "tags"):
        getter = getattr(resource_class, attribute, None)
        if not isinstance(getter, property) or getter.fget is None:
            continue
        declared = str(getter.fget.__annotations__.get("return", "")).strip("'\"")
        if declared.endswith(".TagManager"):
            return attribute
    return None
