"""Custom resource handler: empty the named buckets when their stack is deleted.

Inlined into the Lambda function (no asset). Outside production a stack's buckets are deleted with
it, and CloudFormation cannot delete a bucket that still holds objects; a versioned bucket also
keeps every old version and delete marker, all of which must go. The buckets' policies are deleted
before this resource (they depend on it), which stops S3 server access logs and load balancer logs
from arriving while and after it empties them: both are delivered only by the policy's grant.

CloudFormation sends Delete not only when the stack is deleted: also when this resource leaves the
template or changes its logical ID, when an update that added it rolls back, and for an old
physical ID after a replacement. The buckets live on in all of those, and the fleet downloads its
release from one of them, so only the deletion of the whole stack empties them.
"""

from typing import Any

import boto3

# Provided by Lambda for inline code whose import line is exactly this one.
import cfnresponse

PHYSICAL_ID = "empty-on-delete"
# The stack goes away with its buckets in these two: its deletion, and the rollback of its failed
# create ("ROLLBACK_IN_PROGRESS: Ongoing removal of one or more stacks after a failed stack
# creation"); a bucket that received access logs during that create would otherwise end the
# rollback in ROLLBACK_FAILED. A failed update rolls back as UPDATE_ROLLBACK_*, never as this.
STACK_GOES_AWAY = ("DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS")
BATCH = 1000  # the most DeleteObjects accepts at once
PASSES = 5  # objects that arrived while a pass ran are deleted by the next
# Answer FAILED with this much of the function's time left rather than be cut off by its timeout:
# CloudFormation would wait for an answer that never comes.
RESERVE_MILLIS = 30_000


def handler(event: dict[str, Any], context: Any) -> None:
    try:
        # Create and Update check the property, so that a template without it fails at once
        # rather than at the teardown; a Delete after such a failed create has nothing to empty
        # and must not fail that create's rollback.
        if event["RequestType"] != "Delete":
            if "BucketNames" not in event["ResourceProperties"]:
                raise KeyError("BucketNames")
        elif stack_status(event["StackId"]) in STACK_GOES_AWAY:
            s3 = boto3.client("s3")
            for bucket in event["ResourceProperties"].get("BucketNames", []):
                empty(s3, bucket, context)
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, PHYSICAL_ID)
    except KeyError as missing:
        reason = f"missing {missing}: the template must pass BucketNames"
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, PHYSICAL_ID, reason=reason)
    except Exception as error:
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, PHYSICAL_ID, reason=str(error))


def stack_status(stack_id: str) -> str:
    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
    status: str = stacks[0]["StackStatus"]
    return status


def empty(s3: Any, bucket: str, context: Any) -> None:
    # Each listed page is deleted before the next is read, with the time left checked per page:
    # listing millions of versions first could use up the function's time with nothing deleted.
    for _ in range(PASSES):
        deleted = 0
        try:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                if context.get_remaining_time_in_millis() < RESERVE_MILLIS:
                    raise RuntimeError(f"ran out of time emptying {bucket}: delete the stack again")
                objects = [
                    {"Key": item["Key"], "VersionId": item["VersionId"]}
                    for kind in ("Versions", "DeleteMarkers")
                    for item in page.get(kind, [])
                ]
                for start in range(0, len(objects), BATCH):
                    batch = {"Objects": objects[start : start + BATCH], "Quiet": True}
                    errors = s3.delete_objects(Bucket=bucket, Delete=batch).get("Errors", [])
                    if errors:
                        raise RuntimeError(
                            f"could not delete {len(errors)} objects of {bucket}: {errors[0]}"
                        )
                deleted += len(objects)
        except s3.exceptions.NoSuchBucket:
            return
        if not deleted:
            return
    raise RuntimeError(f"{bucket} still receives objects after {PASSES} passes")
