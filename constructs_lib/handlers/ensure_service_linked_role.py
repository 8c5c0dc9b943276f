"""Custom resource handler: make sure AWSServiceRoleForAutoScaling exists, idempotently.

Inlined into the Lambda function (no asset, no Docker). A fresh account has no such role until the
first Auto Scaling group is created, but the KMS key policy must name it before that: KMS rejects a
policy whose principal does not exist. Deleting the stack leaves the role alone: it is shared by
every Auto Scaling group of the account.
"""

import time
from typing import Any

import boto3

# Provided by Lambda for inline code whose import line is exactly this one.
import cfnresponse

SERVICE = "autoscaling.amazonaws.com"
ROLE_NAME = "AWSServiceRoleForAutoScaling"
# A new role is not usable as a KMS principal at once; IAM is eventually consistent.
PROPAGATION_SECONDS = 15
ATTEMPTS, PAUSE_SECONDS = 6, 5


def handler(event: dict[str, Any], context: Any) -> None:
    try:
        if event["RequestType"] != "Delete":
            data = {"Arn": ensure_role(boto3.client("iam"))["Arn"]}
        else:
            data = {}
        cfnresponse.send(event, context, cfnresponse.SUCCESS, data, ROLE_NAME)
    except Exception as error:
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, ROLE_NAME, reason=str(error))


def ensure_role(iam: Any) -> dict[str, Any]:
    for attempt in range(ATTEMPTS):
        try:
            try:
                role: dict[str, Any] = iam.get_role(RoleName=ROLE_NAME)["Role"]
            except iam.exceptions.NoSuchEntityException:
                role = iam.create_service_linked_role(AWSServiceName=SERVICE)["Role"]
                time.sleep(PROPAGATION_SECONDS)
            return role
        except Exception as error:
            # The managed policy was just attached: IAM may take seconds to apply it everywhere.
            if "AccessDenied" not in str(error) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(PAUSE_SECONDS)
    raise AssertionError("unreachable")
