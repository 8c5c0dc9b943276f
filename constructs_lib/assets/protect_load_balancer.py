"""Custom resource handler: turn on the load balancer's deletion protection.

Inlined into the Lambda function (no asset). The resource is created after the fleet reported
healthy, so the rollback of a failed first create still deletes an unprotected load balancer and
the deploy can simply be retried; from the first success on, the load balancer is protected.
Deleting the resource leaves the protection on: removing it is a deliberate, manual step.
"""

from typing import Any

import boto3
import cfnresponse  # type: ignore[import-not-found]  # provided by Lambda for inline code


def handler(event: dict[str, Any], context: Any) -> None:
    arn = event["ResourceProperties"]["LoadBalancerArn"]
    try:
        if event["RequestType"] != "Delete":
            boto3.client("elbv2").modify_load_balancer_attributes(
                LoadBalancerArn=arn,
                Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}],
            )
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, arn)
    except Exception as error:
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, arn, reason=str(error))
