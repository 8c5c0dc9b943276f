"""The gate of the decision catalogue (constructs_lib/compliance/decisions.py), and the scanner
configs written from it.

`python -m tools.decisions` (`make decisions`) writes the decisions that apply to every template
into .checkov.yaml and .cfnlintrc.yaml; `--check` exits 1 while either file lags behind the
catalogue. Every other decision is applied to resources by `accept`, which writes the scanners'
acknowledgments and suppressions.

The gate (`python -m tools.decisions gate`, part of `make scan`, so of the pipeline's synth step and
CI) builds the app of `cdk synth` (cdk.json's context) with every decision withheld
(`compliance.withheld()`) and reads its assembly: `applications` are where `accept` applied each
one, `findings` what each scanner reports without any of them, and `problems` names every decision
applied where none of its rules fires, every rule of a record that fires nowhere it is applied, and
every record applied nowhere. `uncovered` names what a scanner reports that no decision accepts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from constructs_lib.compliance import (
    APPLIED,
    IN_TEMPLATE,
    SCANNERS,
    Decision,
    decisions,
    withheld,
)
from tools import cfn_guard
from tools.context import cdk_json_context
from tools.generated_block import GeneratedBlock

ROOT = Path(__file__).resolve().parents[1]
# `make scan` installs it (.venv-checkov, its own venv: it pins libraries CDK needs newer).
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
VALIDATION_REPORT = "validation-report.json"
# Validation plugin (as the CDK's report names it) -> scanner.
PLUGINS = {
    "AwsSolutions": "cdk-nag",
    "NIST.800.53.R5": "cdk-nag",
    "CloudFormation Validate": "cdk-validate",
    cfn_guard.PLUGIN: "cfn-guard",
}
# Scanner config -> (its key for checks turned off everywhere, the scanner).
CONFIGS = {
    ".checkov.yaml": ("skip-check", "checkov"),
    ".cfnlintrc.yaml": ("ignore_checks", "cfn-lint"),
}
BEGIN = "# BEGIN decisions that apply to every template (constructs_lib/compliance/decisions.py)"
END = "# END decisions: written by `make decisions`, a test fails while they differ"


@dataclass(frozen=True)
class Finding:
    scanner: str
    rule: str
    # Construct path of the CloudFormation resource ("Dev/Security/SecurityGroups/Web/Resource").
    path: str


@dataclass(frozen=True)
class Application:
    """One `accept` call: the decision, the construct it was applied to, its rules there."""

    decision: str
    path: str
    # (scanner, rule IDs as applied), in the record's order.
    rules: tuple[tuple[str, tuple[str, ...]], ...]


def config_block(key: str, scanner: str, catalogue: Iterable[Decision]) -> str:
    """The block of a scanner's config that turns off the decisions applying everywhere."""
    everywhere = [d for d in catalogue if d.everywhere and d.rules(scanner)]
    if not everywhere:
        return f"# none: each {scanner} suppression sits in its resource's Metadata\n"
    lines = [f"{key}:"]
    for decision in everywhere:
        text = f"{decision.name}: {decision.accepted}: {decision.why}"
        lines += textwrap.wrap(text, 98, initial_indent="  # ", subsequent_indent="  # ")
        lines += [f"  - {rule}" for rule in decision.rules(scanner)]
    return "\n".join(lines) + "\n"


def config_blocks(root: Path = ROOT) -> dict[GeneratedBlock, str]:
    return {
        GeneratedBlock(root / name, BEGIN, END): config_block(key, scanner, decisions.CATALOGUE)
        for name, (key, scanner) in CONFIGS.items()
    }


def applications(assembly: Path) -> list[Application]:
    """Where `accept` applied each decision, from the metadata the CDK wrote into `assembly`."""
    found = []
    for stack in cfn_guard.stacks_of(assembly):
        for path, entries in stack.entries.items():
            for entry in entries:
                if entry["type"] == APPLIED:
                    data = entry["data"]
                    rules = tuple((s, tuple(data["rules"].get(s, ()))) for s in SCANNERS)
                    found.append(Application(data["decision"], path, rules))
    return found


def findings(
    assembly: Path, applied: Sequence[Application], catalogue: Iterable[Decision]
) -> set[Finding]:
    """What every scanner reports over `assembly`, synthesized with every decision withheld.

    cdk-nag and aws-cdk-lib's template validation come from the synth's validation report,
    cfn-guard runs as `make cfn-guard` does, checkov over every template for the checks the
    catalogue names, and cfn-lint (about 2 s a template) over the templates holding a decision
    with cfn-lint rules, then over as many more as it takes to find each everywhere-rule once.
    """
    catalogue = tuple(catalogue)
    stacks = list(cfn_guard.stacks_of(assembly))
    checks = sorted({rule for d in catalogue for rule in d.checkov})
    # checkov takes seconds to start: it runs beside cfn-guard.
    checkov = _start_checkov([s.template for s in stacks], checks) if checks else None
    found = _validation_findings(assembly / VALIDATION_REPORT)
    (guard,) = cfn_guard.scan(assembly)["pluginReports"]
    found |= {
        Finding("cfn-guard", violation["ruleName"], construct["constructPath"])
        for violation in [*guard["violations"], *guard["suppressedViolations"]]
        for construct in violation["violatingConstructs"]
    }
    found |= _cfn_lint_findings(stacks, applied, catalogue)
    if checkov is not None:
        found |= _checkov_findings(checkov, stacks)
    return found


def _validation_findings(report: Path) -> set[Finding]:
    # aws-cdk-lib writes the report once a validation plugin ran, findings or none.
    return {
        Finding(PLUGINS[plugin["pluginName"]], violation["ruleName"], construct["constructPath"])
        for plugin in json.loads(report.read_text())["pluginReports"]
        if plugin["pluginName"] in PLUGINS
        for violation in [*plugin["violations"], *(plugin.get("suppressedViolations") or [])]
        for construct in violation["violatingConstructs"]
    }


def _start_checkov(templates: Sequence[Path], checks: Sequence[str]) -> subprocess.Popen[str]:
    if not CHECKOV.exists():
        raise FileNotFoundError(f"{CHECKOV} is missing: make scan installs it (.venv-checkov)")
    files = [arg for template in templates for arg in ("--file", str(template))]
    command = [str(CHECKOV), *files, "--framework", "cloudformation", "--skip-download"]
    command += ["--quiet", "--compact", "--output", "json", "--check", ",".join(checks)]
    # Away from the repository root, where checkov would read .checkov.yaml by itself: what it
    # turns off is what the gate asks about.
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=templates[0].parent)


def _checkov_findings(
    checkov: subprocess.Popen[str], stacks: Sequence[cfn_guard.StackMetadata]
) -> set[Finding]:
    output, _ = checkov.communicate()
    # Exit 1 means findings; anything else (2 and up) is an error.
    if checkov.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {checkov.returncode}")
    reports = json.loads(output) if output.strip() else []
    by_template = {str(s.template.resolve()): s for s in stacks}
    found = set()
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report.get("results", {}).get("failed_checks", []):
            stack = by_template[str(Path(check["file_abs_path"]).resolve())]
            logical_id = check["resource"].rpartition(".")[2]
            found.add(Finding("checkov", check["check_id"], stack.paths[logical_id]))
    return found


def _cfn_lint_findings(
    stacks: Sequence[cfn_guard.StackMetadata],
    applied: Sequence[Application],
    catalogue: Sequence[Decision],
) -> set[Finding]:
    from cfnlint.api import ManualArgs, lint_file

    wanted: dict[Path, set[str]] = defaultdict(set)
    for application in applied:
        ignored = dict(application.rules).get("cfn-lint", ())
        for stack in stacks if ignored else ():
            if any(_under(path, application.path) for path in stack.paths.values()):
                wanted[stack.template] |= set(ignored)
    everywhere = {rule for d in catalogue if d.everywhere for rule in d.cfn_lint}
    found: set[Finding] = set()
    linted: set[Path] = set()
    for stack in [*(s for s in stacks if s.template in wanted), *stacks]:
        rules = wanted.get(stack.template, set()) | everywhere
        if not rules or stack.template in linted:
            continue
        linted.add(stack.template)
        # Mandatory: on whatever .cfnlintrc.yaml turns off, and on per-resource ignores alike.
        config = ManualArgs(include_checks=["I"], mandatory_checks=sorted(rules))
        for match in lint_file(stack.template, config=config):
            where = list(getattr(match, "path", None) or [])
            if len(where) >= 2 and where[0] == "Resources" and where[1] in stack.paths:
                rule = str(match.rule.id)
                found.add(Finding("cfn-lint", rule, stack.paths[str(where[1])]))
                everywhere.discard(rule)
    return found


def _under(path: str, scope: str) -> bool:
    return path == scope or path.startswith(scope + "/")


def problems(
    applied: Sequence[Application], found: set[Finding], catalogue: Iterable[Decision]
) -> list[str]:
    """Every decision that accepts nothing where it is applied, every rule of a record that fires
    nowhere it is applied, and every record of `catalogue` applied nowhere."""
    paths: dict[tuple[str, str], list[str]] = defaultdict(list)
    for finding in found:
        paths[finding.scanner, finding.rule].append(finding.path)
    fired: dict[str, set[tuple[str, int]]] = defaultdict(set)
    count: dict[str, int] = defaultdict(int)
    out = []
    for application in applied:
        count[application.decision] += 1
        hits = {
            (scanner, index)
            for scanner, rules in application.rules
            for index, rule in enumerate(rules)
            if any(_under(p, application.path) for p in paths[scanner, rule])
        }
        fired[application.decision] |= hits
        if not hits:
            named = ", ".join(rule for _, rules in application.rules for rule in rules)
            out.append(
                f"{application.path}: decision {application.decision} matches no finding there "
                f"(none of {named} reports it): remove its accept() from that resource"
            )
    for decision in catalogue:
        if decision.everywhere:
            out += [
                f"decision {decision.name}: {scanner} {rule} finds nothing in any template: "
                "remove it from the record"
                for scanner in IN_TEMPLATE
                for rule in decision.rules(scanner)
                if not paths[scanner, rule]
            ]
        elif not count[decision.name]:
            out.append(f"decision {decision.name} is applied nowhere: remove the record")
        else:
            out += [
                f"decision {decision.name}: {scanner} {rule} fires at none of the "
                f"{count[decision.name]} resource(s) it is applied to: remove it from the record"
                for scanner in SCANNERS
                for index, rule in enumerate(decision.rules(scanner))
                if (scanner, index) not in fired[decision.name]
            ]
    return out


def uncovered(
    applied: Sequence[Application], found: set[Finding], catalogue: Iterable[Decision]
) -> list[Finding]:
    """What a scanner reports that no decision accepts (the scanners' own gates fail on it)."""
    everywhere = {
        (s, rule) for d in catalogue if d.everywhere for s in SCANNERS for rule in d.rules(s)
    }
    accepted = defaultdict(list)
    for application in applied:
        for scanner, rules in application.rules:
            for rule in rules:
                accepted[scanner, rule].append(application.path)
    return sorted(
        (
            f
            for f in found
            if (f.scanner, f.rule) not in everywhere
            and not any(_under(f.path, scope) for scope in accepted[f.scanner, f.rule])
        ),
        key=lambda f: (f.scanner, f.rule, f.path),
    )


def gate(context: dict[str, object], outdir: Path) -> list[str]:
    """Every problem of the catalogue against the app built from `context`: decisions that match
    no finding, findings no decision accepts, scanners the gate did not hear from."""
    # Imported here: the config writer needs no CDK app.
    from stacks.factory import create_app

    with withheld():
        # The CLI synthesizes with path metadata; cfn-lint recognises CDK's templates by it.
        app = create_app({**context, "aws:cdk:enable-path-metadata": True}, outdir=str(outdir))
    try:
        app.synth()
    except RuntimeError as error:  # every withheld finding fails the validation plugins
        if "ValidationFailed" not in str(error):
            raise
    applied = applications(outdir)
    found = findings(outdir, applied, decisions.CATALOGUE)
    lines = problems(applied, found, decisions.CATALOGUE)
    lines += [
        f"{f.path}: {f.scanner} {f.rule} is reported and no decision accepts it"
        for f in uncovered(applied, found, decisions.CATALOGUE)
    ]
    lines += [
        f"{scanner}: reported nothing with every decision withheld (is it running?)"
        for scanner in sorted(set(SCANNERS) - {f.scanner for f in found})
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "command",
        nargs="?",
        choices=["write", "gate"],
        default="write",
        help="write: the scanner configs (make decisions); gate: hold the catalogue against what "
        "the scanners report over cdk.json's app with every decision withheld (make scan)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 while a config is stale")
    args = parser.parse_args(argv)
    if args.command == "gate":
        with tempfile.TemporaryDirectory(prefix="decisions-") as outdir:
            lines = gate(cdk_json_context(), Path(outdir))
        for line in lines:
            print(f"  - {line}", file=sys.stderr)
        verdict = f"{len(lines)} problem(s)" if lines else "every decision matches its findings"
        # On stderr with the problems: stdout holds the withheld synth's validation report.
        print(f"==> decision gate ({len(decisions.CATALOGUE)} records): {verdict}", file=sys.stderr)
        return 1 if lines else 0
    stale = []
    for block, content in config_blocks().items():
        if block.read() != content:
            stale.append(block.path.name)
            if not args.check:
                block.write(content)
    if args.check and stale:
        print(f"stale: {', '.join(stale)}; run make decisions", file=sys.stderr)
        return 1
    print(f"==> {', '.join(stale) or 'nothing'} {'stale' if args.check else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
