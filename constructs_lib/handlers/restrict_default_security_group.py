"""Custom resource handler: strip the rules EC2 puts into every new VPC's default security group.

Inlined into the Lambda function (no asset). Nothing in this app uses the default group, and an
instance launched into it by mistake would talk to every other member. Deleting the resource
leaves the group empty: the VPC is on its way out with it, or someone chose to stop managing it.
"""

import time
from typing import Any

import boto3

# Provided by Lambda for inline code whose import line is exactly this one.
import cfnresponse

# What a new default group holds: all traffic from its own members, all traffic out (IPv4).
ALL_TRAFFIC = "-1"
ALREADY_GONE = "InvalidPermission.NotFound"
ATTEMPTS, PAUSE_SECONDS = 6, 5


def handler(event: dict[str, Any], context: Any) -> None:
    group_id = event.get("PhysicalResourceId") or "default-security-group"
    try:
        # Delete reads nothing: it must succeed even after a create that failed for a missing
        # property, or the rollback of that create ends in ROLLBACK_FAILED.
        if event["RequestType"] != "Delete":
            group_id = event["ResourceProperties"]["DefaultSecurityGroupId"]
            ec2 = boto3.client("ec2")
            revoke(
                ec2.revoke_security_group_ingress,
                group_id,
                {"IpProtocol": ALL_TRAFFIC, "UserIdGroupPairs": [{"GroupId": group_id}]},
            )
            revoke(
                ec2.revoke_security_group_egress,
                group_id,
                {"IpProtocol": ALL_TRAFFIC, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            )
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, group_id)
    except KeyError as missing:
        reason = f"missing {missing}: the template must pass DefaultSecurityGroupId"
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, group_id, reason=reason)
    except Exception as error:
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, group_id, reason=str(error))


def revoke(call: Any, group_id: str, permission: dict[str, Any]) -> None:
    for attempt in range(ATTEMPTS):
        try:
            call(GroupId=group_id, IpPermissions=[permission])
            return
        except Exception as error:
            # Idempotent: an update, or a retry after a partial failure, finds the rule gone.
            if ALREADY_GONE in str(error):
                return
            # The role's policy was just created: IAM may take seconds to apply it everywhere.
            if "UnauthorizedOperation" not in str(error) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(PAUSE_SECONDS)
