"""CloudFormation's own answer: a change set per stack, described, then deleted unexecuted.

What the pipeline runs before each environment (stacks/pipeline_stack.py) and what anyone with
the environment's credentials can run (`python -m tools.change_safety change-sets --env prod`).
No stack is touched: a stack that does not exist yet gets no change set (a `CREATE` change set
would leave an empty stack in `REVIEW_IN_PROGRESS`), and every change set is deleted, executed or
not, whatever happens.

In the pipeline it runs as the CDK bootstrap roles of the target account, the ones the deploy
itself uses: the deploy role creates and describes change sets (passing the execution role, as
the CLI does), and the file-publishing role uploads templates above CloudFormation's 51,200-byte
`TemplateBody` limit to the bootstrap bucket, as the CLI does.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tools.change_safety.classify import Json, StackChange
from tools.cloud_assembly import Stack

# `cdk bootstrap`'s default qualifier; the README's bootstrap commands keep it.
QUALIFIER = "hnb659fds"
TEMPLATE_BODY_LIMIT = 51_200
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


def bootstrap_role(kind: str, account: str, region: str) -> str:
    return f"arn:aws:iam::{account}:role/cdk-{QUALIFIER}-{kind}-role-{account}-{region}"


def bootstrap_bucket(account: str, region: str) -> str:
    return f"cdk-{QUALIFIER}-assets-{account}-{region}"


@dataclass(frozen=True)
class Clients:
    """The two clients one stack needs, in its account and region."""

    cloudformation: Any
    s3: Any
    # Passed to CreateChangeSet as the CLI does; None: the caller's own permissions.
    execution_role: str | None = None


def clients_for(stack: Stack, session: Any, *, assume_bootstrap_roles: bool) -> Clients:
    if not assume_bootstrap_roles:
        return Clients(
            cloudformation=session.client("cloudformation", region_name=stack.region),
            s3=session.client("s3", region_name=stack.region),
        )
    import boto3

    def assumed(kind: str) -> Any:
        credentials = session.client("sts", region_name=stack.region).assume_role(
            RoleArn=bootstrap_role(kind, stack.account, stack.region),
            RoleSessionName="change-safety",
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=stack.region,
        )

    return Clients(
        cloudformation=assumed("deploy").client("cloudformation"),
        s3=assumed("file-publishing").client("s3"),
        execution_role=bootstrap_role("cfn-exec", stack.account, stack.region),
    )


def deployed_template(cloudformation: Any, stack_name: str) -> Json | None:
    from botocore.exceptions import ClientError

    try:
        body = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    template = body["TemplateBody"]
    # boto3 hands a JSON body back parsed; a YAML one (never the CDK's) stays text.
    parsed: Json = json.loads(template if isinstance(template, str) else json.dumps(template))
    return parsed


def _template_source(stack: Stack, clients: Clients) -> dict[str, str]:
    body = json.dumps(stack.template)
    if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body}
    bucket = bootstrap_bucket(stack.account, stack.region)
    key = f"change-safety/{stack.stack_name}-{hashlib.sha256(body.encode()).hexdigest()}.json"
    clients.s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    return {"TemplateURL": f"https://{bucket}.s3.{stack.region}.amazonaws.com/{key}"}


def describe_changes(stack: Stack, old: Json, clients: Clients) -> list[Json]:
    """`DescribeChangeSet`'s `Changes` for deploying `stack.template` over `old`, every page."""
    cloudformation = clients.cloudformation
    name = f"change-safety-{int(time.time())}"
    # Parameters the deployed stack already has keep their values (BootstrapVersion, as the CLI).
    parameters = [
        {"ParameterKey": key, "UsePreviousValue": True}
        for key in stack.template.get("Parameters", {})
        if key in old.get("Parameters", {})
    ]
    request: dict[str, Any] = {
        "StackName": stack.stack_name,
        "ChangeSetName": name,
        "ChangeSetType": "UPDATE",
        "Capabilities": CAPABILITIES,
        "Parameters": parameters,
        **_template_source(stack, clients),
    }
    if clients.execution_role is not None:
        request["RoleARN"] = clients.execution_role
    cloudformation.create_change_set(**request)
    try:
        changes: list[Json] = []
        token: str | None = None
        for _ in range(180):
            page = cloudformation.describe_change_set(
                StackName=stack.stack_name,
                ChangeSetName=name,
                **({"NextToken": token} if token else {}),
            )
            status = page["Status"]
            if status in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
                time.sleep(5)
                continue
            if status == "FAILED":
                if any(marker in page.get("StatusReason", "") for marker in NO_CHANGES):
                    return []
                raise ChangeSetFailedError(f"{stack.stack_name}: {page['StatusReason']}")
            changes += page.get("Changes", [])
            token = page.get("NextToken")
            if token is None:
                return changes
        raise ChangeSetFailedError(f"{stack.stack_name}: change set not ready after 15 minutes")
    finally:
        # Best effort: a change set still being created cannot be deleted (InvalidChangeSetStatus),
        # and the next ExecuteChangeSet of the stack deletes every other change set anyway.
        try:
            cloudformation.delete_change_set(StackName=stack.stack_name, ChangeSetName=name)
        except Exception as error:  # must not hide the answer or the real error
            print(f"Change safety: {stack.stack_name}: change set {name} left behind: {error}")


class ChangeSetFailedError(RuntimeError):
    """CloudFormation could not compute the change set, for a reason other than "no changes"."""


def _changes_or_prediction(stack: Stack, old: Json, clients: Clients) -> Sequence[Json] | None:
    """The change set's changes, or None (predict from the schemas) when CloudFormation cannot
    compute one. With strong cross-stack references that is the common case of a consumer that
    imports an export its producer only creates in this same deploy ("No export named ...
    found"): every change set is made before any stack deploys. Failing the gate there would
    fail every run until someone deployed around the pipeline (the CDK CLI's own diff falls back
    to the template the same way)."""
    from botocore.exceptions import ClientError

    try:
        return describe_changes(stack, old, clients)
    except ChangeSetFailedError as error:
        reason = str(error)
    except ClientError as error:
        # Refused at CreateChangeSet (ValidationError) rather than as a FAILED change set; access
        # and throttling errors are not a template's fault and still fail the step.
        if error.response.get("Error", {}).get("Code") != "ValidationError":
            raise
        reason = f"{stack.stack_name}: {error}"
    print(f"Change safety: no change set ({reason}); predicted from the resource schemas")
    return None


def stack_changes(
    stacks: Sequence[Stack], session: Any, *, assume_bootstrap_roles: bool
) -> list[StackChange]:
    found: list[StackChange] = []
    for stack in stacks:
        clients = clients_for(stack, session, assume_bootstrap_roles=assume_bootstrap_roles)
        old = deployed_template(clients.cloudformation, stack.stack_name)
        found.append(
            StackChange(
                stack=stack.stack_name,
                old=old,
                new=stack.template,
                region=stack.region,
                change_set=None if old is None else _changes_or_prediction(stack, old, clients),
            )
        )
    return found
