"""`make scan`'s summary names each validation plugin; the test session keeps its own report.

tests/test_compliance.py makes a real cfn-guard report (`make cfn-guard`) and summarizes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import yaml
from cdk_nag import NagPack

from stacks.factory import compliance_packs
from tests.conftest import REPORTS, Synthesized
from tools import cfn_guard
from tools.scan_report import (
    CDK_NAG,
    GUARD_REPORT,
    PLUGINS,
    ROOT,
    SESSION_REPORT,
    VALIDATION_REPORTS,
    exception_lines,
    turned_off,
    validation_rows,
)


def test_the_test_sessions_validation_report_is_kept_in_reports(
    synthesized: Synthesized,
) -> None:
    # aws-cdk-lib's template validation runs in this session's synth only: its report must
    # outlive the session.
    kept = REPORTS / SESSION_REPORT
    assert kept.read_bytes() == (synthesized.outdir / "validation-report.json").read_bytes()


def test_summary_reads_the_cfn_guard_report_of_make_cfn_guard() -> None:
    assert VALIDATION_REPORTS[GUARD_REPORT] == "make cfn-guard"
    assert cfn_guard.PLUGIN in PLUGINS


def test_summary_knows_every_plugin_the_app_registers() -> None:
    packs = compliance_packs(cdk.App())

    assert {pack.name for pack in packs} <= PLUGINS.keys()
    # The summary counts a cdk-nag pack missing from a report as passed: it must always run.
    assert {pack.name for pack in packs if isinstance(pack, NagPack)} == set(CDK_NAG)


def test_summary_lists_an_open_finding_with_its_rule_and_construct(tmp_path: Path) -> None:
    report = tmp_path / SESSION_REPORT
    violation = {
        "ruleName": "AwsSolutions-EC23",
        "severity": "error",
        "violatingConstructs": [{"constructPath": "Dev/Security/SecurityGroups/Web/Resource"}],
    }
    report.write_text(
        json.dumps({"pluginReports": [{"pluginName": "AwsSolutions", "violations": [violation]}]})
    )

    rows, findings = validation_rows(report)

    assert f"| {PLUGINS['AwsSolutions']} (test session) | {SESSION_REPORT} | 1 | n/a |" in rows
    assert findings == [
        f"{PLUGINS['AwsSolutions']} (test session): AwsSolutions-EC23 "
        "Dev/Security/SecurityGroups/Web/Resource"
    ]


def test_the_summary_names_every_check_a_scanner_config_turns_off_with_its_reason() -> None:
    # They appear in no report (checkov prints "Skipped checks: 0" for them): the summary is the
    # only place a reader of `make scan` learns they exist.
    # Each is a decision that applies everywhere, written there by `make decisions`.
    checkov = yaml.safe_load((ROOT / ".checkov.yaml").read_text()).get("skip-check") or []
    cfn_lint = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text()).get("ignore_checks") or []

    lines = exception_lines()

    assert [line.split(": ", 1)[0].strip() for line in lines] == [
        *(f".checkov.yaml {check}" for check in checkov),
        *(f".cfnlintrc.yaml {check}" for check in cfn_lint),
    ]
    assert all("no reason written" not in line for line in lines)


def test_an_entry_without_a_comment_shares_the_reason_written_above_it(tmp_path: Path) -> None:
    config = tmp_path / "scanner.yaml"
    config.write_text("skip-check:\n  # Why: both are the same decision.\n  - A\n  - B\nother: 1\n")

    assert turned_off(config, "skip-check") == [
        ("A", "Why: both are the same decision."),
        ("B", "Why: both are the same decision."),
    ]
