"""Custom resource handler: empty the named buckets when the resource is deleted.

Inlined into the Lambda function (no asset). Outside production a stack's buckets are deleted with
it, and CloudFormation cannot delete a bucket that still holds objects; a versioned bucket also
keeps every old version and delete marker, all of which must go. The buckets' policies are deleted
before this resource (they depend on it), which stops S3 server access logs and load balancer logs
from arriving while and after it empties them: both are delivered only by the policy's grant.
"""

from typing import Any

import boto3
import cfnresponse  # type: ignore[import-not-found]  # provided by Lambda for inline code

BATCH = 1000  # the most DeleteObjects accepts at once
PASSES = 5  # objects that arrived while a pass ran are deleted by the next


def handler(event: dict[str, Any], context: Any) -> None:
    try:
        if event["RequestType"] == "Delete":
            s3 = boto3.client("s3")
            for bucket in event["ResourceProperties"]["BucketNames"]:
                empty(s3, bucket)
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, "empty-on-delete")
    except Exception as error:
        cfnresponse.send(
            event, context, cfnresponse.FAILED, {}, "empty-on-delete", reason=str(error)
        )


def empty(s3: Any, bucket: str) -> None:
    for _ in range(PASSES):
        try:
            objects = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
                for kind in ("Versions", "DeleteMarkers")
                for item in page.get(kind, [])
            ]
        except s3.exceptions.NoSuchBucket:
            return
        if not objects:
            return
        for start in range(0, len(objects), BATCH):
            batch = {"Objects": objects[start : start + BATCH], "Quiet": True}
            errors = s3.delete_objects(Bucket=bucket, Delete=batch).get("Errors", [])
            if errors:
                raise RuntimeError(
                    f"could not delete {len(errors)} objects of {bucket}: {errors[0]}"
                )
    raise RuntimeError(f"{bucket} still receives objects after {PASSES} passes")
