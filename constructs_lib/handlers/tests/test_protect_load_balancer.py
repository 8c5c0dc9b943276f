"""protect_load_balancer: on from the first create; lifted only where the stack lets it go."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import pytest

from constructs_lib.handlers.tests.conftest import (
    CREATE_ROLLBACK,
    MISSING_STACK,
    STACK_DELETION,
    STACK_LIVES_ON,
    Handler,
    create_stack,
    set_stack_status,
)


def protected(arn: str) -> bool:
    attributes = boto3.client("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn)
    values: dict[str, str] = {a["Key"]: a["Value"] for a in attributes["Attributes"]}
    return values["deletion_protection.enabled"] == "true"


def protect(arn: str) -> None:
    boto3.client("elbv2").modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}],
    )


@dataclass
class LoadBalancers:
    stack_id: str
    live: str  # the stack's load balancer now
    replaced: str  # one the stack no longer holds: the old one after a replacement


@pytest.fixture
def protector(aws: None, response_url: str) -> Handler:
    return Handler("protect_load_balancer", response_url)


@pytest.fixture
def load_balancers(aws: None) -> LoadBalancers:
    subnets = [s["SubnetId"] for s in boto3.client("ec2").describe_subnets()["Subnets"]][:2]
    stack_id, physical = create_stack(
        {
            "LoadBalancer": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {"Subnets": subnets},
            }
        }
    )
    replaced = boto3.client("elbv2").create_load_balancer(Name="webapp-old", Subnets=subnets)
    return LoadBalancers(
        stack_id, physical["LoadBalancer"], replaced["LoadBalancers"][0]["LoadBalancerArn"]
    )


def test_create_protects_the_load_balancer(
    protector: Handler, load_balancers: LoadBalancers
) -> None:
    response = protector(
        "Create", {"LoadBalancerArn": load_balancers.live}, stack_id=load_balancers.stack_id
    )

    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", load_balancers.live)
    assert protected(load_balancers.live)


def test_a_replacement_protects_the_new_load_balancer_and_keeps_the_old_one_until_cleanup(
    protector: Handler, load_balancers: LoadBalancers
) -> None:
    protect(load_balancers.replaced)

    response = protector(
        "Update",
        {"LoadBalancerArn": load_balancers.live},
        stack_id=load_balancers.stack_id,
        physical_id=load_balancers.replaced,
        old_properties={"LoadBalancerArn": load_balancers.replaced},
    )

    # A new physical ID: CloudFormation later sends Delete for the old one (or, should the update
    # roll back, an Update back to it, which must still find it protected).
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", load_balancers.live)
    assert protected(load_balancers.live)
    assert protected(load_balancers.replaced)


@pytest.mark.parametrize("status", ["UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", *STACK_LIVES_ON[1:]])
def test_a_load_balancer_the_stack_no_longer_holds_loses_its_protection_so_it_can_be_deleted(
    protector: Handler, load_balancers: LoadBalancers, status: str
) -> None:
    # Cleanup after a replacement, or the rollback of one: the other ARN is the stack's now.
    protect(load_balancers.live)
    protect(load_balancers.replaced)
    set_stack_status(load_balancers.stack_id, status)

    response = protector(
        "Delete",
        {"LoadBalancerArn": load_balancers.replaced},
        stack_id=load_balancers.stack_id,
        physical_id=load_balancers.replaced,
    )

    assert (response["Status"], response["PhysicalResourceId"]) == (
        "SUCCESS",
        load_balancers.replaced,
    )
    assert not protected(load_balancers.replaced)
    assert protected(load_balancers.live)


@pytest.mark.parametrize("status", [STACK_DELETION, *STACK_LIVES_ON])
def test_the_stacks_own_load_balancer_stays_protected_when_the_resource_is_deleted(
    protector: Handler, load_balancers: LoadBalancers, status: str
) -> None:
    # Stack deletion (lifting it is a deliberate manual step), or the resource merely left the
    # template or rolls back while the load balancer serves on.
    protect(load_balancers.live)
    set_stack_status(load_balancers.stack_id, status)

    response = protector(
        "Delete",
        {"LoadBalancerArn": load_balancers.live},
        stack_id=load_balancers.stack_id,
        physical_id=load_balancers.live,
    )

    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", load_balancers.live)
    assert protected(load_balancers.live)


def test_the_rollback_of_a_failed_create_lifts_the_protection_so_it_can_delete_the_load_balancer(
    protector: Handler, load_balancers: LoadBalancers
) -> None:
    protect(load_balancers.live)
    set_stack_status(load_balancers.stack_id, CREATE_ROLLBACK)

    response = protector(
        "Delete",
        {"LoadBalancerArn": load_balancers.live},
        stack_id=load_balancers.stack_id,
        physical_id=load_balancers.live,
    )

    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", load_balancers.live)
    assert not protected(load_balancers.live)


def test_a_delete_for_a_load_balancer_that_no_longer_exists_succeeds(
    protector: Handler, load_balancers: LoadBalancers
) -> None:
    boto3.client("elbv2").delete_load_balancer(LoadBalancerArn=load_balancers.replaced)
    set_stack_status(load_balancers.stack_id, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")

    response = protector(
        "Delete",
        {"LoadBalancerArn": load_balancers.replaced},
        stack_id=load_balancers.stack_id,
        physical_id=load_balancers.replaced,
    )

    assert (response["Status"], response["PhysicalResourceId"]) == (
        "SUCCESS",
        load_balancers.replaced,
    )


def test_protecting_a_load_balancer_that_does_not_exist_fails_with_the_reason(
    protector: Handler, load_balancers: LoadBalancers
) -> None:
    boto3.client("elbv2").delete_load_balancer(LoadBalancerArn=load_balancers.replaced)

    response = protector(
        "Create", {"LoadBalancerArn": load_balancers.replaced}, stack_id=load_balancers.stack_id
    )

    assert response["Status"] == "FAILED"
    assert "LoadBalancerNotFound" in response["Reason"]


def test_a_stack_that_cannot_be_read_fails_the_delete_and_leaves_the_protection_on(
    protector: Handler, load_balancers: LoadBalancers
) -> None:
    protect(load_balancers.replaced)

    response = protector(
        "Delete",
        {"LoadBalancerArn": load_balancers.replaced},
        stack_id=MISSING_STACK,
        physical_id=load_balancers.replaced,
    )

    assert response["Status"] == "FAILED"
    assert "does not exist" in response["Reason"]
    assert protected(load_balancers.replaced)


def test_a_create_without_the_load_balancer_fails_with_a_reason_and_its_rollback_succeeds(
    protector: Handler, load_balancers: LoadBalancers
) -> None:
    created = protector("Create", {}, stack_id=load_balancers.stack_id)
    set_stack_status(load_balancers.stack_id, CREATE_ROLLBACK)
    deleted = protector(
        "Delete", {}, stack_id=load_balancers.stack_id, physical_id=created["PhysicalResourceId"]
    )

    assert created["Status"] == "FAILED"
    assert "LoadBalancerArn" in created["Reason"]
    assert (deleted["Status"], deleted["PhysicalResourceId"]) == (
        "SUCCESS",
        created["PhysicalResourceId"],
    )
