"""cdk-nag gates: zero unacknowledged findings, every acknowledgment carries a real reason, and
withholding one decision of the catalogue fails synth or the scan (tests/test_decisions.py holds
each decision against what the scanners find)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import IConstruct

from constructs_lib.compliance import decisions, withheld
from stacks.factory import create_app
from tests.conftest import Synthesized
from tools import cfn_guard
from tools.scan_report import PLUGINS, validation_rows

PACKS = (AwsSolutionsChecks, NIST80053R5Checks)
MIN_REASON_WORDS = 8
BOILERPLATE = re.compile(
    r"^(n/?a|todo|tbd|fixme|ok|ignore|suppress(ed)?|not needed|false positive)\b", re.I
)


@dataclass(frozen=True)
class Acknowledged:
    construct: IConstruct
    path: str
    rule: str
    reason: str


@pytest.fixture(scope="module")
def acknowledged(synthesized: Synthesized) -> list[Acknowledged]:
    """Every acknowledgment in the app, read once: each metadata read is a jsii round trip."""
    found = []
    for construct in synthesized.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                data: dict[str, str] = entry.data
                found += [
                    Acknowledged(construct, construct.node.path, rule, reason)
                    for rule, reason in data.items()
                ]
    return found


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.__name__)
def test_every_pack_finds_nothing_unacknowledged(synthesized: Synthesized, pack: Any) -> None:
    report = pack().validate_scope(synthesized.app)

    findings = [
        f"{v.rule_name}: {[c.construct_path for c in v.violating_constructs]}"
        for v in report.violations
    ]
    assert findings == []


def test_every_acknowledgment_gives_a_reason_a_reviewer_can_check(
    acknowledged: list[Acknowledged],
) -> None:
    assert acknowledged, "no acknowledgments found: the metadata key may have changed"
    for a in acknowledged:
        assert len(a.reason.split()) >= MIN_REASON_WORDS, f"{a.path} {a.rule}: {a.reason!r}"
        assert not BOILERPLATE.match(a.reason.strip()), f"{a.path} {a.rule}: {a.reason!r}"


def test_no_acknowledgment_is_stack_or_app_wide(acknowledged: list[Acknowledged]) -> None:
    # An acknowledgment sits next to the resource it excuses, never on a stage or a stack.
    for a in acknowledged:
        assert not isinstance(a.construct, cdk.Stack | cdk.Stage | cdk.App), f"{a.path}: {a.rule}"


def test_granular_rules_are_acknowledged_with_their_exact_granular_id(
    acknowledged: list[Acknowledged],
) -> None:
    # A bare `AwsSolutions-IAM5` would not cover `AwsSolutions-IAM5[Resource::...]` findings.
    for a in acknowledged:
        bare = a.rule.removeprefix("Annotation::")
        assert bare not in ("AwsSolutions-IAM4", "AwsSolutions-IAM5"), f"{a.path}: {a.rule}"


def test_withholding_one_decision_fails_synth_naming_its_rule_and_resource(
    context: dict[str, Any], tmp_path: Path
) -> None:
    with withheld(decisions.INTERNET_FACING_WEB_GROUP):
        app = create_app({**context, "env": "dev"}, outdir=str(tmp_path))

    with pytest.raises(RuntimeError, match=r"(?s)SecurityGroups/Web.*AwsSolutions-EC23"):
        app.synth()

    report = json.loads((tmp_path / "validation-report.json").read_text())
    failed = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        if violation["severity"] == "error"
        for construct in violation["violatingConstructs"]
    }
    assert failed == {("AwsSolutions-EC23", "Dev/Security/SecurityGroups/Web/Resource")}


def test_withholding_one_decision_fails_the_cfn_guard_scan_naming_the_rule_and_resource(
    context: dict[str, Any], tmp_path: Path
) -> None:
    # `make cfn-guard` (in `make scan`, so in the pipeline's synth step) is this command over
    # cdk.out: it must fail on the one finding left open, and on nothing acknowledged. The
    # decision names a cfn-guard rule only, so cdk-nag still passes the synth.
    (rule,) = decisions.LOAD_BALANCER_LOGS_TO_IMPORTED_BUCKET.cfn_guard
    outdir = tmp_path / "cdk.out"
    # Only cfn-guard is in question: aws-cdk-lib's own template validation runs in the session.
    with withheld(decisions.LOAD_BALANCER_LOGS_TO_IMPORTED_BUCKET):
        app = create_app(
            {**context, "env": "dev"}, outdir=str(outdir), builtin_cloud_formation_validation=False
        )
    app.synth()
    report = tmp_path / "cfn-guard-report.json"

    assert cfn_guard.main([str(outdir), "--report", str(report)]) == 1

    (plugin,) = json.loads(report.read_text())["pluginReports"]
    failed = {
        (violation["ruleName"], construct["constructPath"])
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    assert failed == {(rule, "Dev/Compute/Web/LoadBalancer/Resource")}
    # `make scan`'s summary reads the same report: the open finding, the acknowledged ones counted.
    rows, findings = validation_rows(report)
    assert findings == [
        f"{PLUGINS[cfn_guard.PLUGIN]} {plugin['pluginVersion']} (make cfn-guard): "
        f"{rule} Dev/Compute/Web/LoadBalancer/Resource"
    ]
    [row] = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    assert row[2] == "1"
    assert int(row[3]) > 0, "the other acknowledgments still hold"
