"""`make scan`: the template scanners over cdk.out, summed up in one Markdown table.

cfn-lint (in this process), checkov (from its own virtualenv, .venv-checkov) and cfn-guard with
the AWS Control Tower proactive-control rules scan every synthesized template. cdk-nag ran during
synth; its row is read back from what synth wrote: the acknowledgments in each stack's metadata and
the violations in cdk.out/validation-report.json. That makes this a second gate for cdk-nag:
`cdk synth` without a stack pattern writes the violations of stacks inside stages to the report
and still exits 0.

Every exception lives in one reviewed place per tool: .cfnlintrc.yaml, .checkov.yaml,
.cfn-guard.yaml, and for cdk-nag an acknowledgment next to the resource.

Exit status: 0 when no finding is left unexplained, 1 when one is, 2 when a scanner could not run.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cfnlint.config import ConfigMixIn
from cfnlint.runner.cli import Runner
from cfnlint.version import __version__ as cfn_lint_version

ROOT = Path(__file__).resolve().parent.parent
CDK_OUT = ROOT / "cdk.out"
CFN_LINT_CONFIG = ROOT / ".cfnlintrc.yaml"
CHECKOV_CONFIG = ROOT / ".checkov.yaml"
CHECKOV_VENV = ROOT / ".venv-checkov"
GUARD_CONFIG = ROOT / ".cfn-guard.yaml"
GUARD_PACKAGE = "cdklabs-cdk-validator-cfnguard"
NAG_PACKAGE = "cdk-nag"
# The packs stacks/factory.py registers, by their module in cdk-nag's bundle (lib/packs/NAME.js).
NAG_PACKS = ("aws-solutions", "nist-800-53-r5")
ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"
# cfn-guard's exit status when it ran and some rule failed (0: every rule passed).
GUARD_FAILED = 19
TOOL_TIMEOUT_SECONDS = 600


class ScanError(Exception):
    """A scanner could not run, or its output could not be read: the scan proves nothing."""


@dataclass(frozen=True)
class Row:
    """One tool's line of the table; each rule is counted in exactly one outcome column."""

    tool: str
    evaluated: int
    passed: int
    # None: the tool does not report which rules had resources to check.
    by_design: int | None
    acknowledged: int
    # Resource-level exceptions behind `acknowledged` (one rule can cover several resources).
    acknowledgments: int
    skipped: int
    failed: int


@dataclass
class Outcome:
    row: Row
    findings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def tally(
    tool: str,
    rules: set[str],
    *,
    failed: set[str],
    skipped: set[str],
    acknowledged: set[str],
    in_scope: set[str] | None,
    acknowledgments: int,
) -> Row:
    """Count every rule in one column: failed, else skipped, else acknowledged, else by design."""
    rules = rules | failed | skipped | acknowledged
    skipped = skipped - failed
    acknowledged = acknowledged - failed - skipped
    by_design = None if in_scope is None else (in_scope & rules) - failed - skipped - acknowledged
    return Row(
        tool=tool,
        evaluated=len(rules),
        passed=len(rules) - len(failed) - len(skipped) - len(acknowledged) - len(by_design or ()),
        by_design=None if by_design is None else len(by_design),
        acknowledged=len(acknowledged),
        acknowledgments=acknowledgments,
        skipped=len(skipped),
        failed=len(failed),
    )


def run(command: list[str], *, ok: Iterable[int] = (0,)) -> str:
    """Run a scanner in the repository root and return its standard output."""
    try:
        result = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ScanError(f"{command[0]}: {error}") from error
    if result.returncode not in ok:
        raise ScanError(
            f"{' '.join(command[:3])} ... exited {result.returncode}:\n{result.stderr[-2000:]}"
        )
    return result.stdout


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ScanError(f"{path.name}: {error}") from error
    if not isinstance(data, dict):
        raise ScanError(f"{path.name}: expected a mapping at the top level")
    return data


def load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ScanError(f"{path.relative_to(ROOT)}: {error}") from error


def timed(scan: Callable[[], Outcome]) -> Outcome:
    start = time.monotonic()
    outcome = scan()
    outcome.seconds = time.monotonic() - start
    return outcome


def relative(path: Path | str) -> str:
    return str(Path(path).resolve().relative_to(ROOT))


def nag_rules() -> set[str]:
    """Every rule ID of the registered packs, read from cdk-nag's own bundle (no jsii start-up)."""
    distribution = importlib.metadata.distribution(NAG_PACKAGE)
    bundle = next(
        (f for f in distribution.files or () if f.name.endswith(".jsii.tgz")),
        None,
    )
    if bundle is None:
        raise ScanError(f"{NAG_PACKAGE}: no jsii bundle in the installed package")
    rules: set[str] = set()
    with tarfile.open(Path(str(distribution.locate_file(bundle)))) as archive:
        for pack in NAG_PACKS:
            member = archive.extractfile(f"package/lib/packs/{pack}.js")
            if member is None:
                raise ScanError(f"{NAG_PACKAGE}: no pack {pack} in its bundle")
            source = member.read().decode()
            name = re.search(r"this\.packName = '([^']+)'", source)
            calls = source.split("this.applyRule(")[1:]
            if name is None or not calls:
                raise ScanError(f"{NAG_PACKAGE} {distribution.version}: cannot read pack {pack}")
            for call in calls:
                rule = re.search(r"ruleSuffixOverride: '([^']+)'", call) or re.search(
                    r"rule: [\w$]+\.(\w+)", call
                )
                if rule is None:
                    raise ScanError(f"{NAG_PACKAGE}: a rule of pack {pack} has no name")
                rules.add(f"{name.group(1)}-{rule.group(1)}")
    return rules


def stack_metadata() -> Iterator[tuple[str, dict[str, Any]]]:
    """(construct path, metadata entry) for every entry the CLI wrote next to the templates."""
    for path in sorted(CDK_OUT.glob("**/*.metadata.json")):
        document = load_json(path)
        for construct_path, entries in document.items():
            for entry in entries:
                yield construct_path, entry


def cdk_nag() -> Outcome:
    rules = nag_rules()
    prefixes = tuple(sorted({rule.split("-")[0] + "-" for rule in rules}))
    acknowledged: set[str] = set()
    acknowledgments = 0
    warnings: list[str] = []
    for construct_path, entry in stack_metadata():
        if entry.get("type") != ACKNOWLEDGED_RULES:
            continue
        for key in entry.get("data", {}):
            rule_id = re.sub(r"^annotation::", "", key, flags=re.IGNORECASE)
            if not rule_id.startswith(prefixes):
                continue  # aws-cdk-lib's own validations acknowledge here too
            base = rule_id.split("[")[0]  # granular IDs: AwsSolutions-IAM5[Resource::*]
            acknowledgments += 1
            acknowledged.add(base)
            if base not in rules:
                warnings.append(f"cdk-nag: {construct_path} acknowledges unknown rule {rule_id}")
    failed: set[str] = set()
    findings: list[str] = []
    report = CDK_OUT / "validation-report.json"
    if report.exists():
        for plugin in load_json(report).get("pluginReports", []):
            for violation in plugin.get("violations", []):
                rule_id = violation.get("ruleName", "")
                if rule_id.startswith(prefixes):
                    failed.add(rule_id.split("[")[0])
                    findings.append(f"cdk-nag: {rule_id} {violation.get('description', '')}")
    return Outcome(
        tally(
            f"cdk-nag {importlib.metadata.version(NAG_PACKAGE)} (AwsSolutions, NIST 800-53 R5)",
            rules,
            failed=failed,
            skipped=set(),
            acknowledged=acknowledged,
            in_scope=None,
            acknowledgments=acknowledgments,
        ),
        findings,
        warnings,
    )


def cfn_lint_acknowledgments(templates: list[Path]) -> tuple[set[str], int]:
    """Rules ignored on single resources (`Metadata: cfn-lint: config: ignore_checks`)."""
    rules: set[str] = set()
    count = 0
    for template in templates:
        for resource in load_json(template).get("Resources", {}).values():
            metadata = resource.get("Metadata", {}).get("cfn-lint", {})
            for rule_id in metadata.get("config", {}).get("ignore_checks", []):
                rules.add(rule_id)
                count += 1
    return rules, count


def cfn_lint(templates: list[Path]) -> Outcome:
    config = ConfigMixIn(
        cli_args=["--config-file", str(CFN_LINT_CONFIG), *(relative(t) for t in templates)]
    )
    runner = Runner(config)
    rules = runner.rules.data
    enabled = {
        rule_id for rule_id, rule in rules.items() if runner.rules.is_rule_enabled(rule, config)
    }
    ignored = tuple(config.ignore_checks)
    skipped = {
        rule_id for rule_id in rules if rule_id not in enabled and rule_id.startswith(ignored)
    }
    matches = list(runner.run())
    acknowledged, acknowledgments = cfn_lint_acknowledgments(templates)
    return Outcome(
        tally(
            f"cfn-lint {cfn_lint_version}",
            enabled | skipped,
            failed={match.rule.id for match in matches},
            skipped=skipped,
            acknowledged=acknowledged & enabled,
            in_scope=None,
            acknowledgments=acknowledgments,
        ),
        [
            f"cfn-lint: {match.filename}:{match.linenumber}: {match.rule.id} {match.message}"
            for match in matches
        ],
    )


def checkov_binary() -> Path:
    binary = CHECKOV_VENV / "bin" / "checkov"
    if not binary.exists():
        raise ScanError(f"{relative(binary)} is missing: run `make scan`, which creates it")
    return binary


def checkov_rules() -> set[str]:
    """Every CloudFormation check of the installed checkov, cached inside its virtualenv.

    `checkov --list` takes seconds; the venv is rebuilt whenever requirements-checkov.txt changes,
    and the cache goes with it.
    """
    cache = CHECKOV_VENV / "cloudformation-checks.txt"
    if cache.exists():
        return set(cache.read_text().split())
    listing = run(
        [str(checkov_binary()), "--list", "--framework", "cloudformation", "--skip-download"]
    )
    rules = set(re.findall(r"^\|\s*\d+\s*\|\s*(CKV2?_[A-Z0-9_]+)\s*\|", listing, re.MULTILINE))
    if not rules:
        raise ScanError("checkov --list named no CloudFormation check")
    cache.write_text("\n".join(sorted(rules)) + "\n")
    return rules


def checkov() -> Outcome:
    output = run(
        [str(checkov_binary()), "--config-file", str(CHECKOV_CONFIG), "--output", "json"],
        ok=(0, 1),  # 1: some check failed
    )
    try:
        reports = json.loads(output)
    except ValueError as error:
        raise ScanError(f"checkov printed no JSON report: {output[:500]}") from error
    if isinstance(reports, dict):
        reports = [reports]
    report = next((r for r in reports if r.get("check_type") == "cloudformation"), None)
    if report is None:
        raise ScanError("checkov reported nothing for CloudFormation: is cdk.out empty?")
    results = report.get("results", {})
    passed = results.get("passed_checks", [])
    failed = results.get("failed_checks", [])
    suppressed = results.get("skipped_checks", [])  # inline checkov:skip in resource Metadata
    rules = checkov_rules()
    skipped = {str(rule) for rule in load_yaml(CHECKOV_CONFIG).get("skip-check", [])}
    warnings = [
        f"checkov: .checkov.yaml skips {rule}, which is no CloudFormation check"
        for rule in sorted(skipped - rules)
    ]
    return Outcome(
        tally(
            f"checkov {report.get('summary', {}).get('checkov_version', '')}".strip(),
            rules,
            failed={check["check_id"] for check in failed},
            skipped=skipped,
            acknowledged={check["check_id"] for check in suppressed},
            in_scope={check["check_id"] for check in passed + failed + suppressed},
            acknowledgments=len(suppressed),
        ),
        [
            f"checkov: {c['check_id']} {c['check_name']}: {c['resource']} in {c['file_path']}"
            for c in failed
        ],
        warnings,
    )


@dataclass(frozen=True)
class GuardRule:
    file_id: str  # ct-s3-pr-10: the file name, the ID the CDK plugin's disabledRules uses
    name: str  # s3_bucket_default_encryption_kms_check: the name cfn-guard reports
    control: str  # CT.S3.PR.10
    path: Path


@dataclass(frozen=True)
class GuardException:
    reason: str
    paths: tuple[str, ...]  # empty: the rule is off everywhere


def guard_bundle() -> tuple[Path, str, Path]:
    """The cfn-guard binary, its version and the rules directory, unpacked once per venv.

    The package ships them inside its jsii bundle; jsii would unpack it to a temporary folder on
    every start, so the scan unpacks it once, next to the package, keyed by its version.
    """
    distribution = importlib.metadata.distribution(GUARD_PACKAGE)
    bundle = next((f for f in distribution.files or () if f.name.endswith(".jsii.tgz")), None)
    if bundle is None:
        raise ScanError(f"{GUARD_PACKAGE}: no jsii bundle in the installed package")
    target = Path(sys.prefix) / "share" / f"{GUARD_PACKAGE}-{distribution.version}"
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        unpacked = Path(tempfile.mkdtemp(dir=target.parent))
        with tarfile.open(Path(str(distribution.locate_file(bundle)))) as archive:
            archive.extractall(unpacked, filter="data")
        try:
            (unpacked / "package").rename(target)
        except OSError:
            if not target.is_dir():  # not just another scan that unpacked it first
                raise
        finally:
            shutil.rmtree(unpacked, ignore_errors=True)
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "AMD64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
    architecture = machine.get(platform.machine())
    binary = target / "bin" / str(system) / str(architecture) / "cfn-guard"
    if not binary.exists():
        raise ScanError(f"{GUARD_PACKAGE} has no cfn-guard for {platform.platform()}")
    version = load_json(target / "guard-version.json").get("version", "")
    return binary, str(version), target / "rules" / "control-tower"


def guard_rules(rules_root: Path) -> dict[str, GuardRule]:
    """Every Control Tower rule, by the name cfn-guard reports."""
    controls = {
        path.name.removesuffix(".metadata.json"): str(load_json(path).get("Id", ""))
        for path in rules_root.glob("metadata/**/*.metadata.json")
    }
    rules: dict[str, GuardRule] = {}
    for path in sorted(rules_root.glob("cfn-guard/**/*.guard")):
        name = re.search(r"^rule (\w+) when", path.read_text(), re.MULTILINE)
        if name is None:
            raise ScanError(f"cfn-guard rule {path.name} names no rule")
        file_id = path.stem
        rules[name.group(1)] = GuardRule(
            file_id, name.group(1), controls.get(file_id) or file_id.upper(), path
        )
    return rules


def guard_exceptions(known: set[str]) -> dict[str, GuardException]:
    exceptions: dict[str, GuardException] = {}
    for file_id, entry in (load_yaml(GUARD_CONFIG).get("exceptions") or {}).items():
        if not isinstance(entry, dict):
            raise ScanError(f".cfn-guard.yaml: {file_id} needs a reason and paths")
        reason = str(entry.get("reason") or "").strip()
        paths = entry.get("paths") or []
        if file_id not in known:
            raise ScanError(f".cfn-guard.yaml: {file_id} is no Control Tower rule")
        if len(reason) < 20:
            raise ScanError(f".cfn-guard.yaml: {file_id} needs a reason a reviewer would accept")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ScanError(f".cfn-guard.yaml: {file_id}: paths must be a list of patterns")
        exceptions[file_id] = GuardException(reason, tuple(paths))
    return exceptions


def resource_ids(check: Any) -> set[str]:
    """Logical IDs of the resources a failed cfn-guard check points at."""
    found: set[str] = set()
    if isinstance(check, dict):
        path = check.get("path")
        if isinstance(path, str) and path.startswith("/Resources/"):
            found.add(path.split("/")[2])
        for value in check.values():
            found |= resource_ids(value)
    elif isinstance(check, list):
        for value in check:
            found |= resource_ids(value)
    return found


def path_matches(construct_path: str, pattern: str) -> bool:
    """`pattern` matches the construct path, or its tail after a `/`.

    An environment's stage has the same paths inside the pipeline stack (webapp-pipeline/Dev/...)
    as on its own (Dev/...), so `Dev/*` covers both.
    """
    parts = construct_path.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern) for i in range(len(parts)))


def construct_paths(template: Mapping[str, Any], logical_ids: set[str]) -> list[str]:
    resources = template.get("Resources", {})
    return sorted(
        resources.get(logical_id, {}).get("Metadata", {}).get("aws:cdk:path", logical_id)
        for logical_id in logical_ids
    )


def cfn_guard(templates: list[Path]) -> Outcome:
    binary, version, rules_root = guard_bundle()
    rules = guard_rules(rules_root)
    by_file = {rule.file_id: rule for rule in rules.values()}
    file_ids = {name: rule.file_id for name, rule in rules.items()}
    exceptions = guard_exceptions(set(by_file))
    off = {file_id for file_id, exception in exceptions.items() if not exception.paths}
    command = [str(binary), "validate", "--output-format", "json", "--show-summary", "none"]
    command += ["--structured"]
    for rule in rules.values():
        if rule.file_id not in off:
            command += ["--rules", str(rule.path)]
    for template in templates:
        command += ["--data", relative(template)]
    output = run(command, ok=(0, GUARD_FAILED))
    try:
        results = json.loads(output)
    except ValueError as error:
        raise ScanError(f"cfn-guard printed no JSON report: {output[:500]}") from error

    in_scope: set[str] = set()
    failed: set[str] = set()
    acknowledged: set[str] = set()
    acknowledgments = 0
    used: set[tuple[str, str]] = set()
    findings: list[str] = []
    for result in results:
        template_path = ROOT / result["name"]
        template = load_json(template_path)
        in_scope |= {file_ids.get(name, name) for name in result.get("compliant", [])}
        for item in result.get("not_compliant", []):
            rule_id = file_ids.get(item["Rule"]["name"], item["Rule"]["name"])
            in_scope.add(rule_id)
            patterns = exceptions.get(rule_id, GuardException("", ())).paths
            for construct_path in construct_paths(template, resource_ids(item)) or [
                relative(template_path)
            ]:
                pattern = next((p for p in patterns if path_matches(construct_path, p)), None)
                if pattern is None:
                    failed.add(rule_id)
                    control = by_file[rule_id].control if rule_id in by_file else rule_id
                    findings.append(f"cfn-guard: {control} ({rule_id}) fails on {construct_path}")
                else:
                    acknowledged.add(rule_id)
                    acknowledgments += 1
                    used.add((rule_id, pattern))
    warnings = [
        f"cfn-guard: .cfn-guard.yaml {file_id}: {pattern} matches no finding any more"
        for file_id, exception in exceptions.items()
        for pattern in exception.paths
        if (file_id, pattern) not in used
    ]
    return Outcome(
        tally(
            f"cfn-guard {version} (Control Tower rules, "
            f"{GUARD_PACKAGE} {importlib.metadata.version(GUARD_PACKAGE)})",
            set(by_file),
            failed=failed,
            skipped=off,
            acknowledged=acknowledged,
            in_scope=in_scope,
            acknowledgments=acknowledgments,
        ),
        findings,
        warnings,
    )


HEADER = (
    "| tool | rules evaluated | passed | fixed-by-design | acknowledged | skipped | failed |",
    "|---|--:|--:|--:|--:|--:|--:|",
)
LEGEND = """\
Each rule is counted once, in the first column from the right that applies to it.
- **failed**: a finding that no exception covers.
- **skipped**: configured off for every template (.cfnlintrc.yaml, .checkov.yaml, or a
  .cfn-guard.yaml exception without paths).
- **acknowledged**: every finding is covered by an exception scoped to its resources (a cdk-nag
  acknowledgment next to the resource, a .cfn-guard.yaml exception with paths, an inline checkov
  or cfn-lint resource suppression); in brackets, how many resources those exceptions cover.
- **fixed-by-design**: the rule checked resources in these templates and every one complies.
  "-": the tool does not report which rules had anything to check.
- **passed**: no finding, and nothing here of the kind the rule checks (or the tool does not
  say)."""


def table(rows: list[Row], templates: list[Path]) -> str:
    lines = [
        f"Template scan of {len(templates)} templates in cdk.out "
        f"({len({t.parent for t in templates})} cloud assemblies):",
        "",
        *HEADER,
    ]
    for row in rows:
        by_design = "-" if row.by_design is None else str(row.by_design)
        acknowledged = str(row.acknowledged)
        if row.acknowledgments:
            acknowledged += f" ({row.acknowledgments})"
        lines.append(
            f"| {row.tool} | {row.evaluated} | {row.passed} | {by_design} | {acknowledged} "
            f"| {row.skipped} | {row.failed} |"
        )
    return "\n".join([*lines, "", LEGEND])


def main() -> int:
    templates = sorted(CDK_OUT.glob("**/*.template.json"))
    if not templates:
        print("scan: no templates in cdk.out: run `make synth` first", file=sys.stderr)
        return 2
    start = time.monotonic()
    try:
        # checkov and cfn-guard are separate processes; cfn-lint runs here meanwhile.
        with ThreadPoolExecutor(max_workers=2) as pool:
            checkov_run = pool.submit(timed, checkov)
            guard_run = pool.submit(timed, lambda: cfn_guard(templates))
            outcomes = [timed(cdk_nag), timed(lambda: cfn_lint(templates))]
            outcomes += [checkov_run.result(), guard_run.result()]
    except ScanError as error:
        print(f"scan: {error}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        for line in outcome.findings + outcome.warnings:
            print(line, file=sys.stderr)
    timings = ", ".join(f"{o.row.tool.split()[0]} {o.seconds:.1f} s" for o in outcomes)
    print(f"scan: {time.monotonic() - start:.1f} s ({timings})", file=sys.stderr)
    print(table([outcome.row for outcome in outcomes], templates))
    return 1 if any(outcome.row.failed for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
