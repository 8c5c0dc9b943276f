"""What every environment's stateful resources share: removal policy, retention, log groups."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from constructs_lib.compliance import accept, decisions
from constructs_lib.core._service_limits import LOG_RETENTION_DAYS

# CT.CLOUDWATCH.PR.2 wants a year; shorter retention outside prod is a decision (below).
ONE_YEAR_DAYS = 365


def stateful_removal_policy(*, is_production: bool) -> cdk.RemovalPolicy:
    """Keys, buckets and log groups: production keeps them on delete and replacement.

    `RetainExceptOnCreate`, not `Retain`: a plain `Retain` also keeps what a failed *create* made,
    and the retry then fails on the fixed names left behind ("already exists").
    """
    if is_production:
        return cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
    return cdk.RemovalPolicy.DESTROY


def log_retention(days: int) -> logs.RetentionDays:
    """`logRetentionDays` as CDK's enum (config validation allows only values it has)."""
    members = [m for m in logs.RetentionDays if m is not logs.RetentionDays.INFINITE]
    # The enum lists its members in ascending order of days, as LOG_RETENTION_DAYS does.
    return dict(zip(LOG_RETENTION_DAYS, members, strict=True))[days]


def environment_log_group(
    scope: IConstruct,
    construct_id: str,
    *,
    name: str,
    key: kms.IKey,
    retention_days: int,
    is_production: bool,
) -> logs.LogGroup:
    """A named log group of the environment: its key, its retention, kept in prod."""
    log_group = logs.LogGroup(
        scope,  # type: ignore[arg-type]
        construct_id,
        log_group_name=name,
        encryption_key=key,
        retention=log_retention(retention_days),
        removal_policy=stateful_removal_policy(is_production=is_production),
    )
    # Production stays checked by the rule: a prod logRetentionDays under a year fails synth.
    if not is_production and retention_days < ONE_YEAR_DAYS:
        accept(
            log_group, decisions.SHORT_LOG_RETENTION_OUTSIDE_PRODUCTION, days=str(retention_days)
        )
    return log_group
