"""The summary `make scan` prints, built only from the reports the scanners wrote themselves.

Each scanner's own exit status is the verdict (the Makefile checks it); this only makes the
reports readable: one line per scanner, then every finding left open. The SARIF files of cfn-lint
and checkov come from `make scan`; cdk-nag runs as a validation plugin during synth, and the CDK
writes its report (cdk.out/validation-report.json, copied next to the others). cfn-guard runs in
the test session's synth only (`make unit`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VALIDATION_REPORT = "cdk-validation-report.json"


def sarif_rows(path: Path) -> tuple[list[str], list[str]]:
    rows: list[str] = []
    findings: list[str] = []
    for run in json.loads(path.read_text()).get("runs", []):
        driver = run["tool"]["driver"]
        tool = f"{driver['name']} {driver.get('version', '')}".strip()
        results = run.get("results", [])
        acknowledged = [r for r in results if r.get("suppressions")]
        open_results = [r for r in results if not r.get("suppressions")]
        rows.append(f"| {tool} | {path.name} | {len(open_results)} | {len(acknowledged)} |")
        findings += [
            f"{tool}: {r['ruleId']} {location(r)}: {r['message']['text']}" for r in open_results
        ]
    return rows, findings


def location(result: dict[str, Any]) -> str:
    places = [
        f"{p['artifactLocation']['uri']}:{p.get('region', {}).get('startLine', '?')}"
        for loc in result.get("locations", [])
        if (p := loc.get("physicalLocation"))
    ]
    return ", ".join(places) or "?"


def validation_rows(path: Path) -> tuple[list[str], list[str]]:
    """Plugins that ran in synth; cdk-nag lists itself only when something is left open."""
    rows: list[str] = []
    findings: list[str] = []
    for plugin in json.loads(path.read_text()).get("pluginReports", []):
        tool = " ".join(
            filter(None, (plugin["pluginName"], plugin.get("pluginVersion"), "(synth)"))
        )
        errors = [v for v in plugin["violations"] if v.get("severity") != "warning"]
        acknowledged = sum(
            len(v["violatingConstructs"]) for v in plugin.get("suppressedViolations", [])
        )
        rows.append(f"| {tool} | {path.name} | {len(errors)} | {acknowledged} |")
        findings += [
            f"{tool}: {v['ruleName']} {c['constructPath']}"
            for v in errors
            for c in v["violatingConstructs"]
        ]
    return rows, findings


def main(reports: Path) -> int:
    rows = ["| scanner | report | open findings | acknowledged |", "|---|---|--:|--:|"]
    findings: list[str] = []
    for path in sorted(reports.glob("*.sarif")):
        more_rows, more_findings = sarif_rows(path)
        rows += more_rows
        findings += more_findings
    if (reports / VALIDATION_REPORT).exists():
        more_rows, more_findings = validation_rows(reports / VALIDATION_REPORT)
        rows += more_rows
        findings += more_findings
    print("\n".join(rows))
    for finding in findings:
        print(finding, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("reports")))
