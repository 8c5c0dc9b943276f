"""Custom resource handler: turn on the load balancer's deletion protection.

Inlined into the Lambda function (no asset). The resource is created after every other resource
of its stack, so the rollback of a failed first create still deletes an unprotected load balancer
and the deploy can simply be retried; from the first success on, the load balancer is protected.
Deleting the resource leaves the protection of the stack's own load balancer on (removing it is a
deliberate, manual step), with two exceptions. While a failed create rolls back, nothing exists to
protect yet. And when the load balancer is replaced, this resource gets the new ARN as its physical
ID and, in the cleanup, a Delete for the old ARN before CloudFormation deletes the old load
balancer: protection left on there would orphan it (DELETE_FAILED) and keep it billed.
"""

from typing import Any

import boto3

# Provided by Lambda for inline code whose import line is exactly this one.
import cfnresponse

# Only a failed create rolls back with this status; a failed update is UPDATE_ROLLBACK_*.
CREATE_ROLLING_BACK = "ROLLBACK_IN_PROGRESS"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"


def handler(event: dict[str, Any], context: Any) -> None:
    arn = event.get("PhysicalResourceId") or "load-balancer"
    try:
        if event["RequestType"] != "Delete":
            arn = event["ResourceProperties"]["LoadBalancerArn"]
            protect(arn, True)
        # A Delete without the ARN follows a create that failed for want of it and protected
        # nothing; failing here too would end that create's rollback in ROLLBACK_FAILED.
        elif "LoadBalancerArn" in event["ResourceProperties"]:
            arn = event["ResourceProperties"]["LoadBalancerArn"]
            if stack_status(event["StackId"]) == CREATE_ROLLING_BACK or arn not in (
                stack_load_balancers(event["StackId"])
            ):
                protect(arn, False)
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, arn)
    except KeyError as missing:
        reason = f"missing {missing}: the template must pass LoadBalancerArn"
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, arn, reason=reason)
    except Exception as error:
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, arn, reason=str(error))


def protect(arn: str, enabled: bool) -> None:
    elbv2 = boto3.client("elbv2")
    try:
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn,
            Attributes=[{"Key": "deletion_protection.enabled", "Value": str(enabled).lower()}],
        )
    except elbv2.exceptions.LoadBalancerNotFoundException:
        # Nothing left to unprotect (deleted by hand, or never created in a failed update);
        # a FAILED here would only stick the stack in a failed cleanup or rollback.
        if enabled:
            raise


def stack_status(stack_id: str) -> str:
    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
    status: str = stacks[0]["StackStatus"]
    return status


def stack_load_balancers(stack_id: str) -> set[str]:
    """The ARNs of the load balancers the stack holds now.

    ListStackResources, not DescribeStackResources: the latter returns only a stack's first 100
    resources, and a live load balancer missing from them would lose its protection.
    """
    pages = boto3.client("cloudformation").get_paginator("list_stack_resources")
    return {
        resource.get("PhysicalResourceId", "")
        for page in pages.paginate(StackName=stack_id)
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] == LOAD_BALANCER
        and not resource["ResourceStatus"].startswith("DELETE_")
    }
