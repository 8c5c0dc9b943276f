"""cfn-guard with the AWS Control Tower proactive-control rules, as a CDK validation plugin.

`cdklabs-cdk-validator-cfnguard` runs its bundled cfn-guard over every template at synth, next to
cdk-nag: an unacknowledged finding fails `cdk synth` like a cdk-nag one and lands in
cdk.out/validation-report.json. Its findings are acknowledged like cdk-nag's, next to the failing
resource (`constructs_lib.conventions.acknowledge_guard`), so an exception applies to that resource
only and a finding on any other resource still fails synth.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator


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
