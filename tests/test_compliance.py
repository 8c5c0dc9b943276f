"""cdk-nag gates: zero unacknowledged findings, and every acknowledgment carries a real reason."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import IConstruct

import constructs_lib.security_groups
from constructs_lib.conventions import acknowledge
from stacks.factory import create_app
from tests.conftest import Synthesized

PACKS = (AwsSolutionsChecks, NIST80053R5Checks)
MIN_REASON_WORDS = 8
BOILERPLATE = re.compile(
    r"^(n/?a|todo|tbd|fixme|ok|ignore|suppress(ed)?|not needed|false positive)\b", re.I
)


def acknowledgments(scope: IConstruct) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every acknowledgment under `scope`."""
    found = []
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                data: dict[str, str] = entry.data
                found += [(construct.node.path, rule, reason) for rule, reason in data.items()]
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
    synthesized: Synthesized,
) -> None:
    found = acknowledgments(synthesized.app)

    assert found, "no acknowledgments found: the metadata key may have changed"
    for path, rule, reason in found:
        assert len(reason.split()) >= MIN_REASON_WORDS, f"{path} {rule}: {reason!r}"
        assert not BOILERPLATE.match(reason.strip()), f"{path} {rule}: {reason!r}"


def test_no_acknowledgment_is_stack_or_app_wide(synthesized: Synthesized) -> None:
    # An acknowledgment sits next to the resource it excuses, never on a stage or a stack.
    for path, rule, _ in acknowledgments(synthesized.app):
        construct = synthesized.app.node.find_child(path.split("/")[0])
        for part in path.split("/")[1:]:
            construct = construct.node.find_child(part)
        assert not isinstance(construct, cdk.Stack | cdk.Stage | cdk.App), f"{path}: {rule}"


def test_granular_rules_are_acknowledged_with_their_exact_granular_id(
    synthesized: Synthesized,
) -> None:
    # A bare `AwsSolutions-IAM5` would not cover `AwsSolutions-IAM5[Resource::...]` findings.
    for path, rule, _ in acknowledgments(synthesized.app):
        bare = rule.removeprefix("Annotation::")
        assert bare not in ("AwsSolutions-IAM4", "AwsSolutions-IAM5"), f"{path}: {rule}"


def test_dropping_one_acknowledgment_fails_synth_naming_the_rule(
    context: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = acknowledge

    def all_but_ec23(scope: IConstruct, rule_id: str, reason: str) -> None:
        if rule_id != "AwsSolutions-EC23":
            real(scope, rule_id, reason)

    monkeypatch.setattr(constructs_lib.security_groups, "acknowledge", all_but_ec23)
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
