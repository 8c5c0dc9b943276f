"""Accepted findings of the scanners: each one written with the reason why."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

# aws-cdk-lib scopes an acknowledgment to a validation plugin by the plugin's name.
CFN_GUARD = "cdk-validator-cfnguard"


def acknowledge_guard(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one cfn-guard (AWS Control Tower) rule on `scope`, with the reason why."""
    acknowledge(scope, f"{CFN_GUARD}::{rule}", reason)


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one finding of one rule on `scope` (and what it contains), with the reason why.

    Use the exact rule ID, granular where the rule has them (`AwsSolutions-IAM5[Resource::*]`),
    and a reason a reviewer would accept: tests reject empty or boilerplate reasons.
    """
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
