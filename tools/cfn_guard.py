"""cfn-guard with the AWS Control Tower proactive-control rules, over a synthesized cloud assembly.

`python -m tools.cfn_guard cdk.out --report reports/cfn-guard-report.json` (`make cfn-guard`,
part of `make scan` and so of the pipeline's synth step) runs the bundled cfn-guard of
`cdklabs-cdk-validator-cfnguard` once over every template of the assembly. Its findings are
acknowledged like cdk-nag's, next to the failing resource, by the decision that accepts them
(`constructs_lib.compliance.accept`, records in constructs_lib/compliance/decisions.py); the
CDK writes each acknowledgment into the stack's metadata (`aws:cdk:acknowledged-rules`, at the
construct's path), and this command applies it as aws-cdk-lib's own validation does: to that
construct and what it contains, for that rule only. Any finding left fails the command (exit 1),
naming the rule and the construct; the report has the layout of the CDK's validation-report.json
(tools/scan_report.py reads both).

It runs here, once, rather than as a validation plugin inside every synth: cfn-guard costs about
15 s of CPU over the whole app, which the test session used to pay in its own synth.
`CfnGuardPlugin` remains for a synth that wants it in-process.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator
from constructs import IConstruct

# aws-cdk-lib scopes an acknowledgment to a validation plugin by the plugin's name
# (constructs_lib.compliance.CFN_GUARD): `cdk-validator-cfnguard::<rule>`.
PLUGIN = "cdk-validator-cfnguard"
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
LOGICAL_ID = "aws:cdk:logicalId"
STACK = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"


@jsii.implements(cdk.IPolicyValidationPlugin)
class CfnGuardPlugin:
    """CfnGuardValidator, its findings reported with severity `error`.

    The package leaves the severity empty. aws-cdk-lib 2.275, once it has moved acknowledged
    findings out of a report, re-derives the report's verdict from the severities of the findings
    left: with none set, one acknowledged finding turned every other one into a pass
    (tests/test_compliance.py drops one exception and expects synth to fail).
    """

    def __init__(self) -> None:
        self._guard = CfnGuardValidator()

    @property
    def name(self) -> str:
        return self._guard.name

    @property
    def version(self) -> str | None:
        return self._guard.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._guard.rule_ids

    def validate(
        self, context: cdk.IPolicyValidationContextBeta1
    ) -> cdk.PolicyValidationPluginReport:
        report = self._guard.validate(context)
        return cdk.PolicyValidationPluginReport(
            success=report.success,
            violations=[
                cdk.PolicyViolation(
                    description=v.description,
                    rule_name=v.rule_name,
                    violating_resources=[
                        cdk.PolicyViolatingResource(
                            locations=r.locations,
                            resource_logical_id=r.resource_logical_id,
                            template_path=r.template_path,
                        )
                        for r in v.violating_resources
                    ],
                    fix=v.fix,
                    rule_metadata=v.rule_metadata,
                    severity=v.severity or "error",
                )
                for v in report.violations
            ],
            metadata=report.metadata,
        )


@jsii.implements(cdk.IPolicyValidationContextBeta1)
class _Templates:
    """What a validation plugin is handed at synth: the templates to check."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = list(paths)

    @property
    def template_paths(self) -> list[str]:
        return self._paths

    @property
    def app_construct(self) -> IConstruct:
        # For plugins that walk the construct tree; cfn-guard reads only the templates.
        raise NotImplementedError("a scan of cdk.out has no construct tree")


@dataclass(frozen=True)
class StackMetadata:
    """One stack of the assembly: its template and what its metadata says about its constructs."""

    template: Path
    # Logical ID -> construct path ("Dev/Compute/Web/LoadBalancer/Resource").
    paths: dict[str, str]
    # Acknowledged rule ID -> construct path -> reason.
    acknowledged: dict[str, dict[str, str]]
    # Construct path -> every metadata entry the CDK wrote for it (tools/decisions.py reads the
    # decisions applied there).
    entries: dict[str, list[dict[str, Any]]]


def stacks_of(assembly: Path) -> Iterator[StackMetadata]:
    """Every stack of a cloud assembly and of its nested ones (one per stage)."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        if artifact["type"] == NESTED_ASSEMBLY:
            yield from stacks_of(assembly / artifact["properties"]["directoryName"])
        elif artifact["type"] == STACK:
            metadata: dict[str, list[dict[str, Any]]] = dict(artifact.get("metadata") or {})
            if "additionalMetadataFile" in artifact:
                extra = json.loads((assembly / artifact["additionalMetadataFile"]).read_text())
                for path, entries in extra.items():
                    metadata[path] = [*metadata.get(path, []), *entries]
            paths: dict[str, str] = {}
            acknowledged: dict[str, dict[str, str]] = {}
            for path, entries in metadata.items():
                for entry in entries:
                    if entry["type"] == LOGICAL_ID:
                        paths[str(entry["data"])] = path.lstrip("/")
                    elif entry["type"] == ACKNOWLEDGED:
                        for rule, reason in entry["data"].items():
                            acknowledged.setdefault(rule, {})[path.lstrip("/")] = reason
            template = assembly / artifact["properties"]["templateFile"]
            yield StackMetadata(
                template=template,
                paths=paths,
                acknowledged=acknowledged,
                entries={path.lstrip("/"): entries for path, entries in metadata.items()},
            )


def acknowledgment(stack: StackMetadata, rule: str, construct_path: str) -> tuple[str, str] | None:
    """(where, reason) of the closest acknowledgment of `rule` on the construct or an ancestor."""
    by_path = stack.acknowledged.get(f"{PLUGIN}::{rule}", {})
    path = construct_path
    while path:
        if path in by_path:
            return path, by_path[path]
        path = path.rpartition("/")[0]
    return None


def scan(assembly: Path) -> dict[str, Any]:
    """cfn-guard over every template of `assembly`, as one plugin report of a validation report."""
    stacks = {str(stack.template.resolve()): stack for stack in stacks_of(assembly)}
    plugin = CfnGuardPlugin()
    report = plugin.validate(_Templates(sorted(stacks)))
    violations: list[dict[str, Any]] = []
    suppressed: list[dict[str, Any]] = []
    for violation in report.violations:
        open_constructs: list[dict[str, Any]] = []
        acknowledged: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for resource in violation.violating_resources:
            stack = stacks[str(Path(resource.template_path or "").resolve())]
            logical_id = resource.resource_logical_id or ""
            construct: dict[str, Any] = {
                "constructPath": stack.paths.get(logical_id, logical_id),
                "resourceLogicalId": logical_id,
                "templatePath": str(stack.template.relative_to(assembly)),
                "locations": list(resource.locations),
            }
            found = acknowledgment(stack, violation.rule_name, construct["constructPath"])
            if found is None:
                open_constructs.append(construct)
            else:
                acknowledged.setdefault(found, []).append(construct)
        rule = {
            "ruleName": violation.rule_name,
            "description": violation.description,
            "severity": violation.severity,
            "fix": violation.fix,
        }
        if open_constructs:
            violations.append({**rule, "violatingConstructs": open_constructs})
        for (where, reason), constructs in acknowledged.items():
            ack = {"acknowledgedAt": where, "reason": reason}
            suppressed.append({**rule, **ack, "violatingConstructs": constructs})
    return {
        "title": "cfn-guard report",
        "pluginReports": [
            {
                "pluginName": plugin.name,
                "pluginVersion": plugin.version,
                "conclusion": "failure" if violations else "success",
                "templates": len(stacks),
                "violations": violations,
                "suppressedViolations": suppressed,
            }
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cfn-guard over a synthesized cloud assembly")
    parser.add_argument("assembly", type=Path, nargs="?", default=Path("cdk.out"))
    parser.add_argument("--report", type=Path, help="write the report (JSON) here")
    args = parser.parse_args(argv)
    result = scan(args.assembly)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(result, indent=2) + "\n")
    (plugin,) = result["pluginReports"]
    for violation in plugin["violations"]:
        for construct in violation["violatingConstructs"]:
            print(
                f"{violation['ruleName']}: {construct['constructPath']} "
                f"({construct['templatePath']}): {violation['description']}",
                file=sys.stderr,
            )
    acknowledged = sum(len(s["violatingConstructs"]) for s in plugin["suppressedViolations"])
    open_findings = sum(len(v["violatingConstructs"]) for v in plugin["violations"])
    print(
        f"==> cfn-guard: {plugin['templates']} templates, {open_findings} open finding(s), "
        f"{acknowledged} acknowledged"
    )
    return 1 if open_findings else 0


if __name__ == "__main__":
    sys.exit(main())
