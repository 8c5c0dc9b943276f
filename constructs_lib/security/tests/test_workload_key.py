"""The WorkloadKey alone: its service-linked-role guard and its lifecycle, from a literal
`security` section."""

from __future__ import annotations

from aws_cdk.assertions import Template

from constructs_lib.core.testing import bare_stack, only
from constructs_lib.security import SecuritySection, WorkloadKey


def workload_key(*, is_production: bool, ensure_service_linked_role: bool) -> Template:
    stack = bare_stack()
    WorkloadKey(
        stack,
        "Encryption",
        alias="alias/test-webapp-security-key",
        description="EBS, logs and notifications of test-webapp-security",
        log_group_name_patterns=["/test/webapp/*", "aws-waf-logs-test-webapp-*"],
        is_production=is_production,
        # As cdk.json spells the section.
        section=SecuritySection.model_validate(
            {"ensureServiceLinkedRole": ensure_service_linked_role}
        ),
        log_retention_days=7,
    )
    return Template.from_stack(stack)


def test_key_waits_for_the_auto_scaling_service_linked_role_it_ensures() -> None:
    template = workload_key(is_production=False, ensure_service_linked_role=True)
    guard_id, _ = only(template, "Custom::AutoScalingServiceLinkedRole")
    _, key = only(template, "AWS::KMS::Key")

    assert guard_id in key["DependsOn"]


def test_key_without_the_role_guard_creates_no_service_linked_role() -> None:
    template = workload_key(is_production=False, ensure_service_linked_role=False)

    template.resource_count_is("Custom::AutoScalingServiceLinkedRole", 0)


def test_production_key_is_retained_and_waits_thirty_days_before_deletion() -> None:
    template = workload_key(is_production=True, ensure_service_linked_role=False)
    _, key = only(template, "AWS::KMS::Key")

    assert key["DeletionPolicy"] == "RetainExceptOnCreate"
    assert key["Properties"]["PendingWindowInDays"] == 30
