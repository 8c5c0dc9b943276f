"""Trust scoped to this account: every role of every template, held to what its service documents.

A confused-deputy condition (`aws:SourceAccount`, `aws:SourceArn`) that a service does not send
makes the role unusable, and one it documents but the trust lacks lets another account's resource
of that service use the role. So each service principal has a row saying which keys its
documentation shows in a role's trust policy, with the page; a new principal fails until it has one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Synthesized
from tests.template_utils import as_list
from tools.cloud_assembly import Stack

CONFUSED_DEPUTY_KEYS = frozenset({"aws:SourceAccount", "aws:SourceArn"})


@dataclass(frozen=True)
class TrustRow:
    keys: frozenset[str]
    source: str
    # The service resource whose ARN `aws:SourceArn` names, as `<service>:<resource type>/`.
    source_arn_resource: str | None = None


# What each service's documentation shows in the trust policy of a role it assumes.
TRUST_TABLE: dict[str, TrustRow] = {
    # "We recommend that you use the aws:SourceAccount and aws:SourceArn condition keys to protect
    # yourself against the confused deputy problem. [...] The source account is the owner of the
    # flow log and the source ARN is the flow log ARN. If you don't know the flow log ID, you can
    # replace that portion of the ARN with a wildcard (*)".
    "vpc-flow-logs.amazonaws.com": TrustRow(
        keys=CONFUSED_DEPUTY_KEYS,
        source="https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html",
        source_arn_resource="ec2:vpc-flow-log/",
    ),
    # Instance profiles: the role's trust names ec2.amazonaws.com with no condition; EC2 sends no
    # aws:SourceArn/aws:SourceAccount when it assumes an instance-profile role.
    "ec2.amazonaws.com": TrustRow(
        keys=frozenset(),
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html",
    ),
    # "In order for Lambda to properly assume your execution role, the role's trust policy must
    # specify the Lambda service principal (lambda.amazonaws.com) as a trusted service." No
    # condition is documented for the execution role.
    "lambda.amazonaws.com": TrustRow(
        keys=frozenset(),
        source="https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
    ),
    # "create-role.json" of the service-role setup shows codebuild.amazonaws.com, sts:AssumeRole
    # and no condition (awsdocs/aws-codebuild-user-guide, doc_source/setting-up.md).
    "codebuild.amazonaws.com": TrustRow(
        keys=frozenset(),
        source="https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html",
    ),
    # aws-cdk-lib's pipeline role; no trust-policy condition found documented for it here.
    "codepipeline.amazonaws.com": TrustRow(
        keys=frozenset(),
        source="https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html",
    ),
}


@dataclass(frozen=True)
class Trust:
    stack: str
    account: str
    region: str
    role: str
    principal: str
    condition: Mapping[str, Mapping[str, Any]]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(key for test in self.condition.values() for key in test)

    def value(self, operator: str, key: str) -> Any:
        return self.condition.get(operator, {}).get(key)

    def __str__(self) -> str:
        return f"{self.stack}/{self.role} ({self.principal})"


def service_trusts(stacks: Iterable[Stack]) -> Iterator[Trust]:
    """Each service principal of each role of every stack: every stage's and the pipeline's."""
    for stack in stacks:
        for role, resource in stack.template["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            for statement in resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
                for principal in as_list(statement["Principal"].get("Service", [])):
                    yield Trust(
                        stack=stack.path,
                        account=stack.account,
                        region=stack.region,
                        role=role,
                        principal=principal,
                        condition=statement.get("Condition", {}),
                    )


@pytest.fixture(scope="module")
def trusts(synthesized: Synthesized) -> list[Trust]:
    found = list(service_trusts(synthesized.assembly.stacks))
    stacks = {t.stack for t in found}
    # The pipeline deploys the very stages the app builds (add_stage), so there are no copies.
    assert {"webapp-pipeline", "Prod/Security", "Local/Security"} <= stacks
    return found


def test_every_service_principal_has_a_documented_row(trusts: list[Trust]) -> None:
    unknown = sorted({str(t) for t in trusts if t.principal not in TRUST_TABLE})
    assert unknown == [], "add a TRUST_TABLE row with the service's documentation page"


def test_every_row_of_the_table_is_a_principal_some_role_trusts(trusts: list[Trust]) -> None:
    # A row no role uses documents nothing this app does: drop it with the role that needed it.
    assert TRUST_TABLE.keys() <= {t.principal for t in trusts}


def test_each_role_trusts_with_exactly_the_conditions_its_service_documents(
    trusts: list[Trust],
) -> None:
    wrong = [
        f"{t}: has {sorted(t.keys & CONFUSED_DEPUTY_KEYS)}, documented "
        f"{sorted(TRUST_TABLE[t.principal].keys)} ({TRUST_TABLE[t.principal].source})"
        for t in trusts
        if t.keys & CONFUSED_DEPUTY_KEYS != TRUST_TABLE[t.principal].keys
    ]
    assert wrong == []


def test_confused_deputy_conditions_name_the_roles_own_account_and_region(
    trusts: list[Trust],
) -> None:
    scoped = [t for t in trusts if TRUST_TABLE[t.principal].keys]
    assert scoped, "no role carries the documented conditions"
    for trust in scoped:
        row = TRUST_TABLE[trust.principal]
        assert row.source_arn_resource is not None
        service, resource = row.source_arn_resource.split(":")
        assert trust.value("StringEquals", "aws:SourceAccount") == trust.account, trust
        # ArnLike: the wildcard stands for the resource ID only, never the account or region.
        expected = f"arn:aws:{service}:{trust.region}:{trust.account}:{resource}*"
        assert trust.value("ArnLike", "aws:SourceArn") == expected, trust
