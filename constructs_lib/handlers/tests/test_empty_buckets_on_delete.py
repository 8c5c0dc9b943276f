"""empty_buckets_on_delete: a stack's buckets are emptied only when the stack itself goes away."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import boto3
import pytest
from botocore.stub import ANY, Stubber

from constructs_lib.handlers.tests.conftest import (
    CREATE_ROLLBACK,
    MISSING_STACK,
    REGION,
    STACK_DELETION,
    STACK_LIVES_ON,
    Handler,
    LambdaContext,
    create_stack,
    set_stack_status,
)


@dataclass
class Buckets:
    stack_id: str
    names: list[str]

    def versions_left(self) -> dict[str, int]:
        s3 = boto3.client("s3")
        return {
            name: sum(
                len(page.get(kind, []))
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=name)
                for kind in ("Versions", "DeleteMarkers")
            )
            for name in self.names
        }


@pytest.fixture
def emptier(aws: None, response_url: str) -> Handler:
    return Handler("empty_buckets_on_delete", response_url)


@pytest.fixture
def buckets(aws: None) -> Buckets:
    stack_id, physical = create_stack(
        {"Artifacts": {"Type": "AWS::S3::Bucket"}, "AccessLogs": {"Type": "AWS::S3::Bucket"}}
    )
    s3 = boto3.client("s3")
    names = [physical["Artifacts"], physical["AccessLogs"]]
    for name in names:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    # A release in two versions, a deleted object (a version and its delete marker), a log.
    s3.put_object(Bucket=names[0], Key="releases/app.tar.gz", Body=b"v1")
    s3.put_object(Bucket=names[0], Key="releases/app.tar.gz", Body=b"v2")
    s3.put_object(Bucket=names[0], Key="releases/old.tar.gz", Body=b"old")
    s3.delete_object(Bucket=names[0], Key="releases/old.tar.gz")
    s3.put_object(Bucket=names[1], Key="AWSLogs/elb.log.gz", Body=b"log")
    return Buckets(stack_id, names)


@pytest.mark.parametrize("status", [STACK_DELETION, CREATE_ROLLBACK])
def test_buckets_are_emptied_of_every_version_when_their_stack_goes_away(
    emptier: Handler, buckets: Buckets, status: str
) -> None:
    set_stack_status(buckets.stack_id, status)

    response = emptier(
        "Delete",
        {"BucketNames": buckets.names},
        stack_id=buckets.stack_id,
        physical_id="empty-on-delete",
    )

    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", "empty-on-delete")
    assert buckets.versions_left() == dict.fromkeys(buckets.names, 0)
    for name in buckets.names:
        boto3.client("s3").delete_bucket(Bucket=name)  # what CloudFormation does next


@pytest.mark.parametrize("status", STACK_LIVES_ON)
def test_a_delete_while_the_stack_lives_on_keeps_every_object_of_the_live_buckets(
    emptier: Handler, buckets: Buckets, status: str
) -> None:
    before = buckets.versions_left()
    set_stack_status(buckets.stack_id, status)

    response = emptier(
        "Delete",
        {"BucketNames": buckets.names},
        stack_id=buckets.stack_id,
        physical_id="empty-on-delete",
    )

    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", "empty-on-delete")
    assert buckets.versions_left() == before == {buckets.names[0]: 4, buckets.names[1]: 1}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_keep_every_object(
    emptier: Handler, buckets: Buckets, request_type: str
) -> None:
    before = buckets.versions_left()
    set_stack_status(buckets.stack_id, f"{request_type.upper()}_IN_PROGRESS")

    response = emptier(
        request_type,
        {"BucketNames": buckets.names},
        stack_id=buckets.stack_id,
        physical_id=None if request_type == "Create" else "empty-on-delete",
        old_properties=None if request_type == "Create" else {"BucketNames": buckets.names},
    )

    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", "empty-on-delete")
    assert buckets.versions_left() == before


def test_objects_that_cannot_be_deleted_fail_the_teardown_with_the_reason(
    emptier: Handler, buckets: Buckets
) -> None:
    s3 = boto3.client("s3")
    locked = "webapp-locked"
    s3.create_bucket(
        Bucket=locked,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=True,
    )
    s3.put_object(
        Bucket=locked,
        Key="kept.log",
        Body=b"x",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
    )
    set_stack_status(buckets.stack_id, STACK_DELETION)

    response = emptier(
        "Delete",
        {"BucketNames": [locked]},
        stack_id=buckets.stack_id,
        physical_id="empty-on-delete",
    )

    assert response["Status"] == "FAILED"
    assert f"could not delete 1 objects of {locked}" in response["Reason"]
    assert "AccessDenied" in response["Reason"]


def test_a_stack_status_that_cannot_be_read_fails_the_delete_and_empties_nothing(
    emptier: Handler, buckets: Buckets
) -> None:
    before = buckets.versions_left()

    response = emptier(
        "Delete", {"BucketNames": buckets.names}, stack_id=MISSING_STACK, physical_id="x"
    )

    assert response["Status"] == "FAILED"
    assert "does not exist" in response["Reason"]
    assert buckets.versions_left() == before


def test_a_bucket_already_gone_does_not_fail_the_teardown(
    emptier: Handler, buckets: Buckets
) -> None:
    set_stack_status(buckets.stack_id, STACK_DELETION)

    response = emptier(
        "Delete",
        {"BucketNames": ["webapp-never-created", *buckets.names]},
        stack_id=buckets.stack_id,
        physical_id="empty-on-delete",
    )

    assert response["Status"] == "SUCCESS"
    assert buckets.versions_left() == dict.fromkeys(buckets.names, 0)


def test_a_handler_short_of_time_answers_failed_instead_of_leaving_cloudformation_waiting(
    emptier: Handler, buckets: Buckets
) -> None:
    set_stack_status(buckets.stack_id, STACK_DELETION)

    response = emptier(
        "Delete",
        {"BucketNames": buckets.names},
        stack_id=buckets.stack_id,
        physical_id="empty-on-delete",
        context=LambdaContext(remaining_millis=1_000),
    )

    assert response["Status"] == "FAILED"
    assert f"ran out of time emptying {buckets.names[0]}" in response["Reason"]


def test_a_create_without_bucket_names_fails_with_a_reason_and_its_rollback_succeeds(
    emptier: Handler, buckets: Buckets
) -> None:
    created = emptier("Create", {}, stack_id=buckets.stack_id)
    set_stack_status(buckets.stack_id, CREATE_ROLLBACK)
    deleted = emptier(
        "Delete", {}, stack_id=buckets.stack_id, physical_id=created["PhysicalResourceId"]
    )

    assert created["Status"] == "FAILED"
    assert "BucketNames" in created["Reason"]
    assert deleted["Status"] == "SUCCESS"


def test_a_bucket_that_keeps_receiving_objects_fails_the_teardown_with_the_reason(
    emptier: Handler,
) -> None:
    # Late access-log deliveries after every pass: the handler gives up with a reason instead of
    # answering SUCCESS over a bucket CloudFormation then cannot delete. AWS's answers are stubbed
    # on a real client: no emulator delivers objects between two calls.
    emptier.module.__dict__["PASSES"] = 2
    s3 = boto3.client("s3", region_name="us-east-1")
    stub = Stubber(s3)
    for delivery in range(2):
        late = {"Key": f"logs/{delivery}", "VersionId": f"v{delivery}"}
        stub.add_response("list_object_versions", {"Versions": [late]}, {"Bucket": "logs"})
        stub.add_response("delete_objects", {}, {"Bucket": "logs", "Delete": ANY})

    with stub, pytest.raises(RuntimeError, match="logs still receives objects after 2 passes"):
        emptier.module.empty(s3, "logs", LambdaContext())
    stub.assert_no_pending_responses()
