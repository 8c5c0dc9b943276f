"""The WebAcl alone: its log group's lifecycle and the one-year retention rule by environment."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from constructs import IConstruct

from constructs_lib.compliance import CFN_GUARD
from constructs_lib.core.testing import bare_stack
from constructs_lib.edge import WebAcl

WAF_LOG_GROUP_NAME = "aws-waf-logs-test-webapp-compute-waf"
# AWS Control Tower's rule that a log group keeps its logs for at least a year.
RETENTION_RULE = f"{CFN_GUARD}::cloudwatch_log_group_retention_period_check"


@dataclass(frozen=True)
class BuiltAcl:
    template: Template
    web_acl: WebAcl


def web_acl(*, is_production: bool) -> BuiltAcl:
    stack = bare_stack()
    acl = WebAcl(
        stack,
        "WebAcl",
        load_balancer=elbv2.ApplicationLoadBalancer.from_application_load_balancer_attributes(
            stack,
            "LoadBalancer",
            load_balancer_arn=(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                "loadbalancer/app/test-webapp-compute-alb/0123456789abcdef"
            ),
            security_group_id="sg-0123456789abcdef0",
        ),
        key=kms.Key(stack, "Key"),
        log_group_name=WAF_LOG_GROUP_NAME,
        redacted_headers=(),
        # Under a year, where production and the other environments are checked differently.
        log_retention_days=7,
        is_production=is_production,
    )
    return BuiltAcl(Template.from_stack(stack), acl)


def acknowledged_rules(scope: IConstruct) -> set[str]:
    """The rules acknowledged on `scope` or anything in it; a plugin does not report those."""
    return {
        rule
        for construct in scope.node.find_all()
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }


@pytest.fixture(scope="module")
def production_web_acl() -> BuiltAcl:
    return web_acl(is_production=True)


@pytest.fixture(scope="module")
def non_production_web_acl() -> BuiltAcl:
    return web_acl(is_production=False)


def test_production_waf_log_group_is_retained_on_delete_and_replacement_not_a_failed_create(
    production_web_acl: BuiltAcl,
) -> None:
    production_web_acl.template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"LogGroupName": WAF_LOG_GROUP_NAME},
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_non_production_waf_log_group_is_deleted_with_its_stack(
    non_production_web_acl: BuiltAcl,
) -> None:
    non_production_web_acl.template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"LogGroupName": WAF_LOG_GROUP_NAME},
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
        },
    )


def test_production_waf_logs_kept_under_a_year_stay_checked_by_the_one_year_retention_rule(
    production_web_acl: BuiltAcl,
) -> None:
    assert RETENTION_RULE not in acknowledged_rules(production_web_acl.web_acl)


def test_non_production_waf_logs_kept_under_a_year_are_excused_from_the_one_year_retention_rule(
    non_production_web_acl: BuiltAcl,
) -> None:
    assert RETENTION_RULE in acknowledged_rules(non_production_web_acl.web_acl)
