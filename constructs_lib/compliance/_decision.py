"""A decision record, and how a construct applies it: every scanner's acknowledgment, one text."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

# aws-cdk-lib scopes an acknowledgment to a validation plugin by the plugin's name.
CFN_GUARD = "cdk-validator-cfnguard"
# aws-cdk-lib's built-in template validation, which the test session runs (tests/conftest.py).
CDK_VALIDATE = "CloudFormation-Validate"
# Construct metadata (it lands in the cloud assembly's manifest, not in the templates): where each
# decision is applied and the rule IDs it covers there, read back by the gate (tools/decisions.py).
APPLIED = "compliance:decision"
# Scanner -> the Decision field that holds its rule IDs.
SCANNERS = {
    "cdk-nag": "cdk_nag",
    "cfn-guard": "cfn_guard",
    "checkov": "checkov",
    "cfn-lint": "cfn_lint",
    "cdk-validate": "cdk_validate",
}
# The scanners that read acknowledgments from the construct tree, and the prefix aws-cdk-lib wants
# on each rule ID: a validation plugin's findings are acknowledged as `<plugin>::<rule>`.
ACKNOWLEDGED_IN_TREE = {"cdk-nag": "", "cfn-guard": CFN_GUARD, "cdk-validate": CDK_VALIDATE}
# Only these scanners read suppressions from the template, and only their configs can turn a check
# off for every template.
IN_TEMPLATE = ("checkov", "cfn-lint")
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Filled in by `accept` from the stack the decision is applied in.
STACK_FIELDS = ("region", "account")


@dataclass(frozen=True)
class Decision:
    """One accepted finding: what is accepted on which resources, why, and the rule ID of every
    scanner that reports it.

    `why` and the rule IDs may name `{fields}` that `accept` fills in (`{region}` and `{account}`
    from the stack; others from its keyword arguments): granular cdk-nag IDs name logical IDs and
    ARNs (`AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]`), and a reason may depend on a setting.
    """

    # kebab-case, unique: how reports, reasons and the gate name the decision.
    name: str
    # What is accepted, and on which resources.
    accepted: str
    why: str
    cdk_nag: tuple[str, ...] = ()
    cfn_guard: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()
    cfn_lint: tuple[str, ...] = ()
    # aws-cdk-lib's built-in template validation (cfn-lint's rule IDs, its own engine).
    cdk_validate: tuple[str, ...] = ()
    # Turned off for every template in the scanner's config (.checkov.yaml, .cfnlintrc.yaml,
    # written from the catalogue by `make decisions`) instead of on the resources it concerns.
    everywhere: bool = False

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ValueError(f"decision name {self.name!r}: kebab-case, like 'handler-log-group'")
        if not any(self.rules(scanner) for scanner in SCANNERS):
            raise ValueError(f"decision {self.name}: names no rule of any scanner")
        if self.everywhere and any(
            self.rules(scanner) for scanner in SCANNERS if scanner not in IN_TEMPLATE
        ):
            raise ValueError(
                f"decision {self.name}: only checkov and cfn-lint can turn a check off for every "
                "template; the other scanners' acknowledgments sit on resources"
            )
        if self.everywhere and self.fields:
            raise ValueError(f"decision {self.name}: applies everywhere, so no field can vary")

    def rules(self, scanner: str) -> tuple[str, ...]:
        rules: tuple[str, ...] = getattr(self, SCANNERS[scanner])
        return rules

    @property
    def fields(self) -> frozenset[str]:
        """The `{fields}` its reason and rule IDs name."""
        texts = [self.why, *(rule for scanner in SCANNERS for rule in self.rules(scanner))]
        return frozenset(
            name
            for text in texts
            for _, name, _, _ in string.Formatter().parse(text)
            if name is not None
        )

    @property
    def reason(self) -> str:
        """The acknowledgment's reason: the why, naming the record it comes from."""
        return f"{self.why} (decision {self.name})"

    def resolved(self, **values: str) -> Decision:
        """This decision with its `{fields}` filled in."""
        missing = self.fields - values.keys()
        if missing:
            raise TypeError(f"decision {self.name} needs {', '.join(sorted(missing))}")
        return Decision(
            name=self.name,
            accepted=self.accepted,
            why=self.why.format(**values),
            everywhere=self.everywhere,
            **{
                SCANNERS[scanner]: tuple(rule.format(**values) for rule in self.rules(scanner))
                for scanner in SCANNERS
            },
        )


_withheld: ContextVar[Callable[[Decision], bool]] = ContextVar("withheld", default=lambda _: False)


@contextmanager
def withheld(*decisions: Decision) -> Iterator[None]:
    """While an app is built inside this block, `accept` records where `decisions` (every decision
    when none is named) apply, but writes none of their acknowledgments or suppressions.

    What every scanner finds then is what each decision would accept: the gate over a whole app
    (tests/test_decisions.py), and "drop one decision and synth fails" (tests/test_compliance.py).
    """
    names = {d.name for d in decisions}
    token = _withheld.set((lambda d: d.name in names) if names else (lambda _: True))
    try:
        yield
    finally:
        _withheld.reset(token)


def accept(scope: IConstruct, decision: Decision, **fields: str) -> None:
    """Apply `decision` (a record of constructs_lib/compliance/decisions.py) to `scope` and what it
    contains: cdk-nag's, cfn-guard's and aws-cdk-lib's acknowledgments on `scope`, checkov's and
    cfn-lint's suppressions in the Metadata of its CloudFormation resource, each with the
    decision's reason.

    Apply it to the construct that owns the resource, never a stack or the app. The gate
    (tests/test_decisions.py) fails when none of its rules reports `scope` without it.
    """
    if decision.everywhere:
        raise ValueError(
            f"decision {decision.name} is turned off for every template in the scanners' configs "
            "(make decisions); it is applied to no resource"
        )
    unknown = fields.keys() - decision.fields
    if unknown:
        raise TypeError(f"decision {decision.name} names no field {', '.join(sorted(unknown))}")
    applied = decision.resolved(**_stack_fields(scope, decision), **fields)
    rules = {scanner: list(rules) for scanner in SCANNERS if (rules := applied.rules(scanner))}
    scope.node.add_metadata(APPLIED, {"decision": decision.name, "rules": rules})
    if _withheld.get()(decision):
        return
    reason = applied.reason
    acknowledgments = []
    for scanner, prefix in ACKNOWLEDGED_IN_TREE.items():
        acknowledgments += [
            cdk.Acknowledgment(id=f"{prefix}::{rule}" if prefix else rule, reason=reason)
            for rule in applied.rules(scanner)
        ]
    if acknowledgments:
        # In one call: each is a round trip to jsii.
        cdk.Validations.of(scope).acknowledge(*acknowledgments)
    if applied.checkov or applied.cfn_lint:
        resource = _resource_of(scope, decision)
        if applied.checkov:
            # checkov reads `Metadata.checkov.skip` of each resource (checkov/cloudformation/
            # context_parser.py, collect_skip_comments).
            skips = [
                *_metadata(resource, "checkov").get("skip", []),
                *({"id": rule, "comment": reason} for rule in applied.checkov),
            ]
            resource.add_metadata("checkov", {"skip": skips})
        if applied.cfn_lint:
            # cfn-lint reads `Metadata.cfn-lint.config.ignore_checks` of each resource
            # (cfnlint/template/template.py, get_directives); it takes no reason.
            ignored = [
                *_metadata(resource, "cfn-lint").get("config", {}).get("ignore_checks", []),
                *applied.cfn_lint,
            ]
            resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ignored}})


def _stack_fields(scope: IConstruct, decision: Decision) -> dict[str, str]:
    """`{region}` and `{account}` from the stack of `scope`, read only for a record that names
    either: three round trips to jsii, and most records name neither."""
    if not decision.fields & set(STACK_FIELDS):
        return {}
    stack = cdk.Stack.of(scope)
    return {"region": stack.region, "account": stack.account}


def _metadata(resource: cdk.CfnResource, key: str) -> dict[str, Any]:
    found = resource.get_metadata(key)
    return dict(found) if isinstance(found, dict) else {}


def _resource_of(scope: IConstruct, decision: Decision) -> cdk.CfnResource:
    """checkov and cfn-lint read suppressions from one resource's Metadata: the one of `scope`."""
    if isinstance(scope, cdk.CfnResource):
        return scope
    child = scope.node.default_child
    if isinstance(child, cdk.CfnResource):
        return child
    raise TypeError(
        f"decision {decision.name} names checkov or cfn-lint rules, which are suppressed in one "
        f"resource's Metadata: apply it to that resource, not to {scope.node.path}"
    )
