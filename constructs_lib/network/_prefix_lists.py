"""The S3 prefix list of the environment's region, from CDK's context cache (cdk.context.json).

`com.amazonaws.<region>.s3` is an AWS-managed prefix list with one ID per region, different in
every region. It is looked up the conventional CDK way, `ec2.PrefixList.from_lookup`, whose answer
the CLI writes to cdk.context.json; that file is committed, so synth of a committed environment
reads the ID from it and never calls AWS (FACTS: synth must not touch the network).

Considered instead: a custom resource that calls DescribeManagedPrefixLists at deploy time. It
needs no cached value, but it is a Lambda function in every environment without NAT, which the
emulator cannot run (the `local` environment is exactly such an environment), one more handler to
test for every CloudFormation event, and its answer would be a token: nothing at synth (cdk-nag,
cfn-guard, the tests) could read which prefix list the egress rule names.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

# What `PrefixList.from_lookup` answers while the context cache lacks the entry: the CLI then
# looks the value up (with credentials) and synthesizes again. Outside `make context` this app
# refuses it instead (MissingLookupError), so that no template ever names this placeholder.
NOT_LOOKED_UP = "pl-xxxxxxxx"


def s3_prefix_list_name(region: str) -> str:
    return f"com.amazonaws.{region}.s3"


class MissingLookupError(Exception):
    """The context cache has no S3 prefix list for this stack's account and region."""

    def __init__(self, *, account: str, region: str) -> None:
        super().__init__(f"no {s3_prefix_list_name(region)} for {account} in cdk.context.json")
        self.account = account
        self.region = region


def s3_prefix_list(scope: Construct, construct_id: str, *, allow_lookups: bool) -> ec2.IPrefixList:
    """The S3 prefix list of `scope`'s region, as cached for its account in cdk.context.json.

    Raises MissingLookupError when the cache lacks it, unless `allow_lookups` lets the CDK CLI fill
    it (the placeholder is then in the template only until the CLI synthesizes again).
    """
    stack = cdk.Stack.of(scope)
    prefix_list = ec2.PrefixList.from_lookup(
        scope, construct_id, prefix_list_name=s3_prefix_list_name(stack.region)
    )
    if prefix_list.prefix_list_id == NOT_LOOKED_UP and not allow_lookups:
        raise MissingLookupError(account=stack.account, region=stack.region)
    return prefix_list
