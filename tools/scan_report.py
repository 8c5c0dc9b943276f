"""The summary `make scan` prints, built only from the reports the scanners wrote themselves.

Each scanner's own exit status is the verdict (the Makefile checks it); this only makes the
reports readable: one line per scanner, then every finding left open. The SARIF files of cfn-lint
and checkov come from `make scan`. The CDK's validation plugins (stacks/factory.py) run inside a
synth and the CDK writes their report: `make synth` runs the cdk-nag packs (its report is copied
from cdk.out), the test session runs them with aws-cdk-lib's template validation
(tests/conftest.py copies its report here). A finding either synth leaves open fails it.
cfn-guard runs once over cdk.out (`make cfn-guard`, tools/cfn_guard.py) and writes its report
in the same layout, acknowledged findings included.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

SYNTH_REPORT = "cdk-validation-report.json"
SESSION_REPORT = "pytest-validation-report.json"
GUARD_REPORT = "cfn-guard-report.json"
# Validation report -> the command that wrote it.
VALIDATION_REPORTS = {
    SYNTH_REPORT: "make synth",
    GUARD_REPORT: "make cfn-guard",
    SESSION_REPORT: "test session",
}
# What each validation plugin is, by the name it reports under.
PLUGINS = {
    "AwsSolutions": "cdk-nag AwsSolutions",
    "NIST.800.53.R5": "cdk-nag NIST 800-53 R5",
    "cdk-validator-cfnguard": "cfn-guard (Control Tower rules)",
    "CloudFormation Validate": "aws-cdk-lib template validation",
    "Construct Annotations": "CDK construct annotations",
}
# Every synth runs both packs. cdk-nag 3 drops acknowledged findings before it reports, so a pack
# enters a report only with an open finding (which fails that synth), and its acknowledgments are
# counted nowhere but in the code (`compliance.accept` of a record in compliance/decisions.py).
CDK_NAG = ("AwsSolutions", "NIST.800.53.R5")
NOT_REPORTED = "n/a"
ROOT = Path(__file__).resolve().parents[1]
# Checks a scanner's config turns off for every template: they appear in no report, so the summary
# names them with the reason written above each (the comment block right before the entry).
SCANNER_CONFIGS = {".checkov.yaml": "skip-check", ".cfnlintrc.yaml": "ignore_checks"}


def turned_off(config: Path, key: str) -> list[tuple[str, str]]:
    """(check ID, first sentence of its reason) for each entry of `key` in a scanner's YAML."""
    entries: list[tuple[str, str]] = []
    inside, comment = False, list[str]()
    for line in config.read_text().splitlines():
        if re.match(rf"^{re.escape(key)}:\s*$", line):
            inside, comment = True, []
            continue
        if inside and re.match(r"^\S", line):
            inside = False
        if not inside:
            continue
        if (text := line.strip()).startswith("#"):
            comment.append(text.lstrip("# "))
        elif entry := re.match(r"^\s*-\s*(\S+)", line):
            # Entries under one comment share its reason.
            reason = " ".join(comment) or (entries[-1][1] if entries else "no reason written")
            entries.append((entry.group(1), reason))
            comment = []
    return entries


def _first_sentences(reason: str, limit: int = 160) -> str:
    """The check's title and the start of why, short enough for one line of a summary."""
    return reason if len(reason) <= limit else reason[: limit - 3].rstrip() + "..."


def exception_lines(root: Path = ROOT) -> list[str]:
    lines = []
    for name, key in SCANNER_CONFIGS.items():
        if (config := root / name).exists():
            lines += [
                f"  {name} {check}: {_first_sentences(reason)}"
                for check, reason in turned_off(config, key)
            ]
    return lines


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
    """One row per plugin that ran in the synth that wrote `path` (cdk-nag's packs always), or in
    `make cfn-guard`."""
    reported = {
        plugin["pluginName"]: plugin
        for plugin in json.loads(path.read_text()).get("pluginReports", [])
    }
    # cdk-nag runs in every synth, and a pack without open findings is absent from its report;
    # cfn-guard's report comes from no synth.
    ran_nag = path.name != GUARD_REPORT
    passed = [
        {"pluginName": name, "violations": []}
        for name in CDK_NAG
        if ran_nag and name not in reported
    ]
    rows: list[str] = []
    findings: list[str] = []
    for plugin in [*passed, *reported.values()]:
        name = plugin["pluginName"]
        what = PLUGINS.get(name, name)
        tool = " ".join(filter(None, (what, plugin.get("pluginVersion"))))
        tool += f" ({VALIDATION_REPORTS.get(path.name, 'synth')})"
        errors = [v for v in plugin["violations"] if v.get("severity") != "warning"]
        suppressed = plugin.get("suppressedViolations") or []
        acknowledged = sum(len(v["violatingConstructs"]) for v in suppressed)
        counted = NOT_REPORTED if name in CDK_NAG else acknowledged
        rows.append(f"| {tool} | {path.name} | {len(errors)} | {counted} |")
        findings += [
            f"{tool}: {v['ruleName']} {c['constructPath']}"
            for v in errors
            for c in v["violatingConstructs"]
        ]
    return rows, findings


def main(reports: Path) -> int:
    rows = ["| scanner | report | open findings | acknowledged |", "|---|---|--:|--:|"]
    findings: list[str] = []
    readers = [(path, sarif_rows) for path in sorted(reports.glob("*.sarif"))]
    readers += [(reports / name, validation_rows) for name in VALIDATION_REPORTS]
    for path, reader in readers:
        if path.exists():
            more_rows, more_findings = reader(path)
            rows += more_rows
            findings += more_findings
    print("\n".join(rows))
    if any(row.endswith(f"| {NOT_REPORTED} |") for row in rows):
        print(f"{NOT_REPORTED}: cdk-nag drops acknowledged findings before it reports them.")
    if exceptions := exception_lines():
        print(f"Turned off for every template ({len(exceptions)}; reasons in each file):")
        print("\n".join(exceptions))
    session = reports / SESSION_REPORT
    if session.exists():
        written = datetime.fromtimestamp(session.stat().st_mtime).isoformat(timespec="seconds")
        print(f"(test session): the last `make unit` run, at {written}.")
    else:
        print(f"No {SESSION_REPORT}: aws-cdk-lib's template validation runs in make unit.")
    for finding in findings:
        print(finding, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("reports")))
