"""`make scan`'s summary names each validation plugin; the test session keeps its own report.

tests/test_compliance.py makes a real cfn-guard report (`make cfn-guard`) and summarizes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import NagPack

from compliance import cfn_guard
from stacks.factory import compliance_packs
from tests.conftest import REPORTS, Synthesized
from tools.scan_report import (
    CDK_NAG,
    GUARD_REPORT,
    PLUGINS,
    SESSION_REPORT,
    VALIDATION_REPORTS,
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
