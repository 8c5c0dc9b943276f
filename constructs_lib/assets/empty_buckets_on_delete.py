"""Custom resource handler: empty the named buckets when the resource is deleted.

Inlined into the Lambda function (no asset). Outside production a stack's buckets are deleted with
it, and CloudFormation cannot delete a bucket that still holds objects; a versioned bucket also
keeps every old version and delete marker, all of which must go.
"""

from typing import Any

import boto3
import cfnresponse  # type: ignore[import-not-found]  # provided by Lambda for inline code

BATCH = 1000  # the most DeleteObjects accepts at once


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
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    try:
        for page in pages:
            objects = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for kind in ("Versions", "DeleteMarkers")
                for item in page.get(kind, [])
            ]
            for start in range(0, len(objects), BATCH):
                s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": objects[start : start + BATCH], "Quiet": True}
                )
    except s3.exceptions.NoSuchBucket:
        return
