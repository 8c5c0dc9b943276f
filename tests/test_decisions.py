"""One decision, one record: each accepted finding is applied where a scanner reports it.

The gate itself (`python -m tools.decisions gate`) runs in `make scan` over cdk.json's app with
every decision withheld, through all five scanners; here it runs over a small stack, to show that
it names a record that matches no finding and a finding no record accepts.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from constructs_lib.compliance import (
    APPLIED,
    CFN_GUARD,
    SCANNERS,
    Decision,
    accept,
    decisions,
    withheld,
)
from tools import decisions as gate
from tools.scan_report import ROOT

# The CLI synthesizes with path metadata; cfn-lint recognises CDK's templates by it.
PATH_METADATA = {"aws:cdk:enable-path-metadata": True}


def test_a_decision_applied_where_none_of_its_rules_fires_fails_the_gate_naming_it_and_where(
    tmp_path: Path,
) -> None:
    # The handlers' log-group decision on a group that is neither unencrypted nor short-lived,
    # and on one that is both: only the first is a record that matches no finding. A third group
    # like the second, with no decision, is a finding no record accepts.
    with withheld():
        app = cdk.App(outdir=str(tmp_path), context=PATH_METADATA)
        stack = cdk.Stack(
            app, "Small", env=cdk.Environment(account="111111111111", region="eu-west-1")
        )
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        kept = logs.LogGroup(
            stack, "Kept", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR
        )
        accept(kept, decisions.HANDLER_LOG_GROUP)
        handlers = logs.LogGroup(stack, "Handler", retention=logs.RetentionDays.ONE_WEEK)
        accept(handlers, decisions.HANDLER_LOG_GROUP)
        logs.LogGroup(stack, "Forgotten", retention=logs.RetentionDays.ONE_WEEK)
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    applied = gate.applications(tmp_path)
    found = gate.findings(tmp_path, applied, [decisions.HANDLER_LOG_GROUP])

    problems = gate.problems(applied, found, [decisions.HANDLER_LOG_GROUP])

    assert [p.split(" (none of ")[0] for p in problems] == [
        "Small/Kept: decision handler-log-group matches no finding there"
    ]
    unaccepted = gate.uncovered(applied, found, [decisions.HANDLER_LOG_GROUP])
    paths = {f.path for f in unaccepted}
    # The key has findings of its own that nothing here accepts; the accepted group has none.
    assert "Small/Forgotten/Resource" in paths
    assert "Small/Handler/Resource" not in paths


def test_scanner_configs_turn_off_exactly_the_decisions_that_apply_everywhere() -> None:
    # `make decisions` writes them; a record changed without it fails here.
    blocks = gate.config_blocks()
    assert sorted(block.path.name for block in blocks) == [".cfnlintrc.yaml", ".checkov.yaml"]
    for block, content in blocks.items():
        assert block.read() == content, f"{block.path.name}: run make decisions"
    checkov = yaml.safe_load((ROOT / ".checkov.yaml").read_text()).get("skip-check") or []
    cfn_lint = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text()).get("ignore_checks") or []
    everywhere = [d for d in decisions.CATALOGUE if d.everywhere]
    assert checkov == [rule for d in everywhere for rule in d.checkov]
    assert cfn_lint == [rule for d in everywhere for rule in d.cfn_lint]


def test_every_record_has_its_own_name_and_names_each_rule_once() -> None:
    names = [d.name for d in decisions.CATALOGUE]
    assert len(names) == len(set(names))
    for decision in decisions.CATALOGUE:
        for scanner in SCANNERS:
            rules = decision.rules(scanner)
            assert len(rules) == len(set(rules)), f"{decision.name}: {scanner} {rules}"


def small_stack() -> cdk.Stack:
    app = cdk.App()
    return cdk.Stack(app, "Small", env=cdk.Environment(account="111111111111", region="eu-west-1"))


def test_accept_writes_every_scanners_acknowledgment_with_the_records_reason() -> None:
    stack = small_stack()
    group = logs.LogGroup(stack, "Handler", retention=logs.RetentionDays.ONE_WEEK)

    accept(group, decisions.HANDLER_LOG_GROUP)

    reason = decisions.HANDLER_LOG_GROUP.reason
    acknowledged = {
        rule: why
        for m in group.node.metadata
        if m.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, why in m.data.items()
    }
    # aws-cdk-lib files a bare ID under `Annotation::`; cdk-nag reads it there.
    assert acknowledged == {
        "Annotation::NIST.800.53.R5-CloudWatchLogGroupEncrypted": reason,
        f"{CFN_GUARD}::cloudwatch_log_group_encrypted_check": reason,
        f"{CFN_GUARD}::cloudwatch_log_group_retention_period_check": reason,
    }
    (resource,) = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    assert resource["Metadata"]["checkov"] == {"skip": [{"id": "CKV_AWS_158", "comment": reason}]}


def test_decisions_on_one_resource_add_up_in_its_metadata_cfn_lint_included() -> None:
    stack = small_stack()
    group = logs.LogGroup(stack, "Handler")
    lint = Decision(
        name="example-lint",
        accepted="an example of a cfn-lint rule accepted on one resource",
        why="checks that cfn-lint's per-resource ignore is written next to checkov's skip",
        cfn_lint=("W3005", "I3011"),
    )

    accept(group, decisions.HANDLER_LOG_GROUP)
    accept(group, lint)

    (resource,) = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    assert resource["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["W3005", "I3011"]}}
    assert [skip["id"] for skip in resource["Metadata"]["checkov"]["skip"]] == ["CKV_AWS_158"]


def test_accept_fills_a_granular_rule_id_from_the_stack_and_its_fields() -> None:
    stack = small_stack()
    group = logs.LogGroup(stack, "Logs")

    accept(group, decisions.INSTANCES_SIGNAL_COMPUTE_STACK, stack="dev-webapp-compute")

    (entry,) = [m.data for m in group.node.metadata if m.type == APPLIED]
    assert entry["rules"] == {
        "cdk-nag": [
            "AwsSolutions-IAM5[Resource::arn:aws:cloudformation:eu-west-1:111111111111:"
            "stack/dev-webapp-compute/*]"
        ]
    }


@pytest.mark.parametrize(
    ("fields", "error"),
    [({}, "needs stack"), ({"stack": "a", "bucket": "b"}, "names no field bucket")],
)
def test_accept_refuses_a_missing_or_unknown_field(fields: dict[str, str], error: str) -> None:
    group = logs.LogGroup(small_stack(), "Logs")

    with pytest.raises(TypeError, match=error):
        accept(group, decisions.INSTANCES_SIGNAL_COMPUTE_STACK, **fields)


def test_a_checkov_suppression_must_be_applied_to_its_resource() -> None:
    stack = small_stack()
    logs.LogGroup(stack, "Handler")

    with pytest.raises(TypeError, match="apply it to that resource, not to Small"):
        accept(stack, decisions.HANDLER_LOG_GROUP)


def test_a_decision_that_applies_everywhere_is_applied_to_no_resource() -> None:
    group = logs.LogGroup(small_stack(), "Logs")

    with pytest.raises(ValueError, match="turned off for every template"):
        accept(group, decisions.REDUNDANT_DEPENDS_ON)
