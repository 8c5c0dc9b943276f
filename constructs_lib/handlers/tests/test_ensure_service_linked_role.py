"""ensure_service_linked_role: the Auto Scaling service-linked role exists before the key."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication
from moto.iam.models import iam_backends

from constructs_lib.handlers.tests.conftest import (
    ACCOUNT,
    EVERY_DELETE,
    REGION,
    Handler,
    create_stack,
    set_stack_status,
)

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
