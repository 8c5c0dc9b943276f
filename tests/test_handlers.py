"""The four deploy-time handlers, executed under moto for every event CloudFormation sends.

What runs is the very text `InlineCustomResource` inlines (read from the assets folder as it
reads it), with AWS's own cfnresponse module (the PyPI copy of the one Lambda injects into inline
code). Its PUT goes to a local server that stands in for the pre-signed ResponseURL, so each case
asserts both the change in the mocked account and the answer CloudFormation would get.
"""

from __future__ import annotations

import datetime
import json
import threading
import types
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation.models import cloudformation_backends
from moto.core.authorization import enable_iam_authentication
from moto.iam.models import iam_backends

from constructs_lib.handlers import HANDLERS

ACCOUNT, REGION = "123456789012", "eu-west-1"
# A handler that has not answered by then would leave CloudFormation waiting: a failure.
ANSWER_WITHIN_SECONDS = 20
# The retry pauses of the handlers, none of which a test waits for.
PAUSES = ("PAUSE_SECONDS", "PROPAGATION_SECONDS")

CREATE_ROLLBACK = "ROLLBACK_IN_PROGRESS"
STACK_DELETION = "DELETE_IN_PROGRESS"
# Delete while the stack lives on: the resource left the template (or an old physical ID is
# cleaned up after a replacement), or an update rolls back.
STACK_LIVES_ON = (
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
)
EVERY_DELETE = (STACK_DELETION, CREATE_ROLLBACK, *STACK_LIVES_ON)


class ResponseCollector(BaseHTTPRequestHandler):
    received: dict[str, dict[str, Any]] = {}  # noqa: RUF012  # shared by the server's threads

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        ResponseCollector.received[self.path.lstrip("/")] = json.loads(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def response_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponseCollector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # No handler launches an instance; loading moto's AMI catalogue costs seconds per test.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    # The handlers call boto3.client(): a fresh default session reads the credentials above.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        yield


@dataclass
class LambdaContext:
    remaining_millis: int = 300_000
    log_stream_name: str = "2026/12/02/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@dataclass
class Handler:
    """One handler module, loaded from the text that ships, and the URL it answers to."""

    name: str
    response_url: str
    module: types.ModuleType = field(init=False)

    def __post_init__(self) -> None:
        path = HANDLERS / f"{self.name}.py"
        self.module = types.ModuleType(self.name)
        # Read as InlineCustomResource reads it for Code.from_inline.
        exec(compile(path.read_text(), str(path), "exec"), self.module.__dict__)
        for pause in PAUSES:
            if hasattr(self.module, pause):
                setattr(self.module, pause, 0)

    def __call__(
        self,
        request_type: str,
        properties: dict[str, Any],
        *,
        stack_id: str,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
        context: LambdaContext | None = None,
    ) -> dict[str, Any]:
        """Invoke the handler as Lambda does and return the response CloudFormation receives."""
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ResponseURL": f"{self.response_url}/{request_id}",
            "StackId": stack_id,
            "RequestId": request_id,
            "ResourceType": "Custom::Test",
            "LogicalResourceId": "Resource",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:::function:f", **properties},
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        raised: list[BaseException] = []

        def invoke() -> None:
            try:
                self.module.handler(event, context or LambdaContext())
            except BaseException as error:
                raised.append(error)

        thread = threading.Thread(target=invoke, daemon=True)
        thread.start()
        thread.join(ANSWER_WITHIN_SECONDS)
        assert not thread.is_alive(), "the handler never returned: CloudFormation would wait"
        # An exception out of the handler is a Lambda error: no answer, and the stack waits.
        assert not raised, f"the handler raised instead of answering: {raised[0]!r}"
        response = ResponseCollector.received.pop(request_id, None)
        assert response is not None, "the handler returned without answering CloudFormation"
        assert response["RequestId"] == request_id
        assert response["StackId"] == stack_id
        return response


def create_stack(resources: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A stack created by moto's CloudFormation, and its resources' physical IDs by logical ID."""
    cloudformation = boto3.client("cloudformation")
    template = json.dumps({"Resources": resources})
    stack_id = cloudformation.create_stack(StackName="webapp", TemplateBody=template)["StackId"]
    summaries = cloudformation.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
    return stack_id, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries}


def set_stack_status(stack_id: str, status: str) -> None:
    # moto runs every stack operation to its end within the API call, so the in-progress statuses
    # a handler sees while CloudFormation waits for it never last there. The test sets the status
    # on moto's own record of the stack; the handler reads it through DescribeStacks as in AWS.
    cloudformation_backends[ACCOUNT][REGION].stacks[stack_id].status = status


MISSING_STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/gone/00000000-0000-0000-0000-0"


# --- empty_buckets_on_delete ------------------------------------------------------------------


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


# --- protect_load_balancer --------------------------------------------------------------------


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


# --- restrict_default_security_group ----------------------------------------------------------


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


# --- ensure_service_linked_role ---------------------------------------------------------------

ROLE_NAME = "AWSServiceRoleForAutoScaling"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/{ROLE_NAME}"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/webapp/00000000-0000-0000-0000-1"


@pytest.fixture
def role_guard(aws: None, response_url: str) -> Handler:
    return Handler("ensure_service_linked_role", response_url)


def role_arn() -> str | None:
    try:
        arn: str = boto3.client("iam").get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    except boto3.client("iam").exceptions.NoSuchEntityException:
        return None
    return arn


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_a_fresh_account_gets_the_auto_scaling_service_linked_role(
    role_guard: Handler, request_type: str
) -> None:
    response = role_guard(
        request_type,
        {},
        stack_id=STACK_ID,
        physical_id=None if request_type == "Create" else ROLE_NAME,
        old_properties=None if request_type == "Create" else {},
    )

    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", ROLE_NAME)
    assert response["Data"] == {"Arn": ROLE_ARN}
    assert role_arn() == ROLE_ARN


def test_an_account_that_has_the_role_keeps_it(role_guard: Handler) -> None:
    boto3.client("iam").create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")

    response = role_guard("Create", {}, stack_id=STACK_ID)

    assert (response["Status"], response["Data"]) == ("SUCCESS", {"Arn": ROLE_ARN})
    assert role_arn() == ROLE_ARN


@pytest.mark.parametrize("status", EVERY_DELETE)
def test_a_delete_leaves_the_role_every_auto_scaling_group_of_the_account_shares(
    role_guard: Handler, status: str
) -> None:
    boto3.client("iam").create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    stack_id, _ = create_stack({"Topic": {"Type": "AWS::SNS::Topic"}})
    set_stack_status(stack_id, status)

    response = role_guard("Delete", {}, stack_id=stack_id, physical_id=ROLE_NAME)

    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", ROLE_NAME)
    assert role_arn() == ROLE_ARN


@dataclass
class DeniedUntil:
    """The handler's credentials, which IAM denies until the pause number `allowed_after`."""

    allowed_after: int | None
    pauses: int = 0

    def sleep(self, seconds: float) -> None:
        self.pauses += 1
        if self.pauses == self.allowed_after:
            iam_backends[ACCOUNT]["global"].put_user_policy(
                "handler",
                "applied",
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["iam:GetRole", "iam:CreateServiceLinkedRole"],
                                "Resource": "*",
                            }
                        ],
                    }
                ),
            )


@pytest.fixture
def denied_credentials(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The race the retry exists for: the function runs before IAM applies its new policy.
    iam = boto3.client("iam")
    iam.create_user(UserName="handler")
    key = iam.create_access_key(UserName="handler")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with enable_iam_authentication():
        yield


@pytest.mark.usefixtures("denied_credentials")
def test_a_policy_that_iam_applies_late_is_waited_for(role_guard: Handler) -> None:
    clock = DeniedUntil(allowed_after=2)
    role_guard.module.__dict__["time"] = types.SimpleNamespace(sleep=clock.sleep)

    response = role_guard("Create", {}, stack_id=STACK_ID)

    assert (response["Status"], response["Data"]) == ("SUCCESS", {"Arn": ROLE_ARN})
    assert clock.pauses >= 2


@pytest.mark.usefixtures("denied_credentials")
def test_a_permission_that_never_arrives_fails_with_the_reason(role_guard: Handler) -> None:
    clock = DeniedUntil(allowed_after=None)
    role_guard.module.__dict__["time"] = types.SimpleNamespace(sleep=clock.sleep)

    response = role_guard("Create", {}, stack_id=STACK_ID)

    assert response["Status"] == "FAILED"
    assert "AccessDenied" in response["Reason"]
    # Six attempts (ATTEMPTS), five pauses: stated here, not read from the module it checks.
    assert clock.pauses == 5


def test_a_bucket_that_keeps_receiving_objects_fails_the_teardown_with_the_reason(
    emptier: Handler,
) -> None:
    # Late access-log deliveries after every pass: the handler gives up with a reason instead of
    # answering SUCCESS over a bucket CloudFormation then cannot delete. AWS's answers are stubbed
    # on a real client: no emulator delivers objects between two calls.
    from botocore.stub import ANY, Stubber

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
