"""restrict_default_security_group: the VPC's default group is left without any rule."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from constructs_lib.handlers.tests.conftest import (
    EVERY_DELETE,
    Handler,
    create_stack,
    set_stack_status,
)


def rules(group_id: str) -> tuple[list[Any], list[Any]]:
    (group,) = boto3.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    ingress = [
        (p["IpProtocol"], [pair["GroupId"] for pair in p["UserIdGroupPairs"]])
        for p in group["IpPermissions"]
    ]
    egress = [
        (p["IpProtocol"], [r["CidrIp"] for r in p["IpRanges"]])
        for p in group["IpPermissionsEgress"]
    ]
    return ingress, egress


@pytest.fixture
def lockdown(aws: None, response_url: str) -> Handler:
    return Handler("restrict_default_security_group", response_url)


@dataclass
class DefaultGroup:
    stack_id: str
    group_id: str


@pytest.fixture
def default_group(aws: None) -> DefaultGroup:
    stack_id, physical = create_stack(
        {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}
    )
    ec2 = boto3.client("ec2")
    (group,) = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [physical["Vpc"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    group_id = group["GroupId"]
    # EC2 puts "all traffic from the group's own members" into every new default group; moto
    # creates only the egress rule, so the test adds the ingress one.
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id}]}],
    )
    assert rules(group_id) == ([("-1", [group_id])], [("-1", ["0.0.0.0/0"])])
    return DefaultGroup(stack_id, group_id)


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_the_default_group_is_left_without_any_rule(
    lockdown: Handler, default_group: DefaultGroup, request_type: str
) -> None:
    properties = {"DefaultSecurityGroupId": default_group.group_id}
    updating = request_type == "Update"

    response = lockdown(
        request_type,
        properties,
        stack_id=default_group.stack_id,
        physical_id=default_group.group_id if updating else None,
        old_properties=properties if updating else None,
    )

    assert (response["Status"], response["PhysicalResourceId"]) == (
        "SUCCESS",
        default_group.group_id,
    )
    assert rules(default_group.group_id) == ([], [])


def test_stripping_a_group_already_stripped_succeeds(
    lockdown: Handler, default_group: DefaultGroup
) -> None:
    properties = {"DefaultSecurityGroupId": default_group.group_id}
    lockdown("Create", properties, stack_id=default_group.stack_id)

    response = lockdown(
        "Update",
        properties,
        stack_id=default_group.stack_id,
        physical_id=default_group.group_id,
        old_properties=properties,
    )

    assert response["Status"] == "SUCCESS"
    assert rules(default_group.group_id) == ([], [])


@pytest.mark.parametrize("status", EVERY_DELETE)
def test_a_delete_leaves_the_default_group_as_it_is(
    lockdown: Handler, default_group: DefaultGroup, status: str
) -> None:
    before = rules(default_group.group_id)
    set_stack_status(default_group.stack_id, status)

    response = lockdown(
        "Delete",
        {"DefaultSecurityGroupId": default_group.group_id},
        stack_id=default_group.stack_id,
        physical_id=default_group.group_id,
    )

    assert (response["Status"], response["PhysicalResourceId"]) == (
        "SUCCESS",
        default_group.group_id,
    )
    assert rules(default_group.group_id) == before


def test_a_group_that_does_not_exist_fails_with_the_reason(
    lockdown: Handler, default_group: DefaultGroup
) -> None:
    response = lockdown(
        "Create",
        {"DefaultSecurityGroupId": "sg-0123456789abcdef0"},
        stack_id=default_group.stack_id,
    )

    assert response["Status"] == "FAILED"
    assert "InvalidGroup.NotFound" in response["Reason"]


def test_a_create_without_the_group_fails_with_a_reason_and_its_rollback_succeeds(
    lockdown: Handler, default_group: DefaultGroup
) -> None:
    created = lockdown("Create", {}, stack_id=default_group.stack_id)
    deleted = lockdown(
        "Delete", {}, stack_id=default_group.stack_id, physical_id=created["PhysicalResourceId"]
    )

    assert created["Status"] == "FAILED"
    assert "DefaultSecurityGroupId" in created["Reason"]
    assert deleted["Status"] == "SUCCESS"


@pytest.mark.parametrize("denials", [2, 6])
def test_a_permission_ec2_applies_late_is_waited_for_a_bounded_number_of_attempts(
    lockdown: Handler, denials: int
) -> None:
    # moto's EC2 never answers UnauthorizedOperation (its IAM check says AccessDenied), so the
    # retry is driven directly: denied `denials` times, then allowed.
    calls: list[dict[str, Any]] = []
    pauses: list[float] = []
    lockdown.module.__dict__["time"] = types.SimpleNamespace(sleep=pauses.append)

    def revoke(**request: Any) -> None:
        calls.append(request)
        if len(calls) <= denials:
            raise RuntimeError("An error occurred (UnauthorizedOperation) when calling Revoke")

    if denials < 6:
        lockdown.module.revoke(revoke, "sg-1", {"IpProtocol": "-1"})
        assert (len(calls), len(pauses)) == (denials + 1, denials)
    else:
        with pytest.raises(RuntimeError, match="UnauthorizedOperation"):
            lockdown.module.revoke(revoke, "sg-1", {"IpProtocol": "-1"})
        # Six attempts in all (ATTEMPTS), five pauses between them: then the reason goes out.
        assert (len(calls), len(pauses)) == (6, 5)
