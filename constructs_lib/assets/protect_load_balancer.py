"""Custom resource handler: turn on the load balancer's deletion protection.

Inlined into the Lambda function (no asset). The resource is created after every other resource
of its stack, so the rollback of a failed first create still deletes an unprotected load balancer
and the deploy can simply be retried; from the first success on, the load balancer is protected.
Deleting the resource leaves the protection on (removing it is a deliberate, manual step), except
while a failed create rolls back: then nothing exists to protect yet.
"""

from typing import Any

import boto3
import cfnresponse  # type: ignore[import-not-found]  # provided by Lambda for inline code

# Only a failed create rolls back with this status; a failed update is UPDATE_ROLLBACK_*.
CREATE_ROLLING_BACK = "ROLLBACK_IN_PROGRESS"


def handler(event: dict[str, Any], context: Any) -> None:
    arn = "load-balancer"
    try:
        arn = event["ResourceProperties"]["LoadBalancerArn"]
        if event["RequestType"] != "Delete":
            protect(arn, True)
        elif stack_status(event["StackId"]) == CREATE_ROLLING_BACK:
            protect(arn, False)
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, arn)
    except Exception as error:
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, arn, reason=str(error))


def protect(arn: str, enabled: bool) -> None:
    boto3.client("elbv2").modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[{"Key": "deletion_protection.enabled", "Value": str(enabled).lower()}],
    )


def stack_status(stack_id: str) -> str:
    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
    status: str = stacks[0]["StackStatus"]
    return status
