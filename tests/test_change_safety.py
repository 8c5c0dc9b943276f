"""Change safety (tools/change_safety): what a deploy would do to prod, classified before it runs.

Each template pair is the prod environment of the fixture app before and after one change: a
config value (`network.vpcCidr`, `fleet.amiId`, an alarm threshold), a code change (the load
balancer stops using the access-log bucket, so its export goes), or one edit of a synthesized
template where the config has no knob for it (a log group's name, an `s3:*` statement, a
description, CDK metadata).
Only prod is synthesized (`env` narrows the app), without the validation plugins the session synth
runs over the same resources: each variant costs about 2 s after the first.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from stacks.factory import create_app
from stacks.web_tier_stage import WebTierStage
from tools.change_safety.__main__ import compare, environment_stacks
from tools.change_safety.acknowledgments import (
    Acknowledgment,
    AcknowledgmentError,
    Verdict,
    judge,
    load,
    parse,
    render,
)
from tools.change_safety.classify import (
    Classification,
    Finding,
    Json,
    Kind,
    StackChange,
    classify,
    is_stateful,
)
from tools.change_safety.stack_policy import stack_policy
from tools.cloud_assembly import read
from tools.context import fixture_context

NETWORK, SECURITY, COMPUTE = "prod-webapp-network", "prod-webapp-security", "prod-webapp-compute"
Templates = dict[str, Json]
ACCESS_LOG_ATTRIBUTES = ("access_logs.s3.enabled", "access_logs.s3.bucket", "access_logs.s3.prefix")


class Variant:
    """One synthesized prod environment: its cloud assembly and its templates by stack name."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.templates: Templates = {
            name: stack.template for name, stack in environment_stacks(read(outdir), "prod").items()
        }


def synthesize_prod(
    outdir: Path,
    *,
    mutate: Callable[[cdk.App], None] | None = None,
    **changes: dict[str, Any],
) -> Variant:
    """Prod alone, with `changes` (section -> values) merged into its sections."""
    context = fixture_context()
    context["env"] = "prod"
    for section, values in changes.items():
        context["environments"]["prod"].setdefault(section, {}).update(values)
    app = create_app(
        context,
        outdir=str(outdir),
        builtin_cloud_formation_validation=False,
        cfn_guard_plugin=False,
    )
    if mutate is not None:
        mutate(app)
    app.synth()
    return Variant(outdir)


def stop_using_the_access_log_bucket(app: cdk.App) -> None:
    """The code change of tests/integration/export_removal_app.py, in one deploy instead of two."""
    for stage in app.node.children:
        if not isinstance(stage, WebTierStage):
            continue
        for node in stage.compute.node.find_all():
            if isinstance(node, elbv2.ApplicationLoadBalancer):
                for attribute in ACCESS_LOG_ATTRIBUTES:
                    node.remove_attribute(attribute)
                for rule in ("AwsSolutions-ELB2", "NIST.800.53.R5-ELBLoggingEnabled"):
                    cdk.Validations.of(node).acknowledge(
                        cdk.Acknowledgment(id=rule, reason="test of removing a cross-stack export")
                    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Variant:
    return synthesize_prod(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def new_vpc_range(tmp_path_factory: pytest.TempPathFactory) -> Variant:
    return synthesize_prod(tmp_path_factory.mktemp("vpc"), network={"vpcCidr": "10.40.0.0/16"})


@pytest.fixture(scope="module")
def new_ami(tmp_path_factory: pytest.TempPathFactory) -> Variant:
    return synthesize_prod(tmp_path_factory.mktemp("ami"), fleet={"amiId": "ami-0fedcba9876543210"})


def changes(old: Templates, new: Templates, **change_sets: list[Json]) -> list[StackChange]:
    return [
        StackChange(stack=name, old=old.get(name), new=new[name], change_set=change_sets.get(name))
        for name in new
    ]


def verdict_of(
    old: Templates,
    new: Templates,
    *,
    production: bool = True,
    acknowledgments: tuple[Acknowledgment, ...] = (),
) -> Verdict:
    return judge(classify(changes(old, new), production=production), acknowledgments)


def summary(classification: Classification) -> set[tuple[str, str, Kind]]:
    return {(f.stack, f.logical_id, f.kind) for f in classification.findings}


def of_type(template: Json, resource_type: str) -> list[str]:
    return sorted(k for k, r in template["Resources"].items() if r["Type"] == resource_type)


def only(template: Json, resource_type: str) -> str:
    (logical_id,) = of_type(template, resource_type)
    return logical_id


def edited(templates: Templates, stack: str, edit: Callable[[Json], None]) -> Templates:
    copied = copy.deepcopy(templates)
    edit(copied[stack])
    return copied


def finding(classification: Classification, stack: str, logical_id: str) -> Iterator[Finding]:
    return (f for f in classification.findings if (f.stack, f.logical_id) == (stack, logical_id))


def test_a_new_vpc_range_replaces_the_vpc_and_its_subnets_and_names_each_cascade(
    base: Variant, new_vpc_range: Variant
) -> None:
    old, new = base.templates, new_vpc_range.templates
    verdict = verdict_of(old, new)
    network, security, compute = old[NETWORK], old[SECURITY], old[COMPUTE]
    vpc = only(network, "AWS::EC2::VPC")
    subnets = of_type(network, "AWS::EC2::Subnet")
    target_group = only(compute, "AWS::ElasticLoadBalancingV2::TargetGroup")
    stateful = {
        (f.stack, f.logical_id)
        for f in verdict.classification.findings
        if f.kind is Kind.STATEFUL_REPLACEMENT
    }
    assert stateful == {(NETWORK, vpc), *((NETWORK, s) for s in subnets), (COMPUTE, target_group)}
    # Each subnet changes its own range and follows the VPC; the target group follows it across
    # stacks, through the VPC ID that the network stack exports.
    for subnet in subnets:
        (replaced,) = finding(verdict.classification, NETWORK, subnet)
        assert replaced.chain == (f"{NETWORK}/{vpc}", f"{NETWORK}/{subnet}")
        assert replaced.why.startswith("CidrBlock changed (create-only)")
    (group,) = finding(verdict.classification, COMPUTE, target_group)
    assert group.chain == (f"{NETWORK}/{vpc}", f"{COMPUTE}/{target_group}")
    # Stateless followers are replaced too: reported, not blocked.
    security_groups = of_type(security, "AWS::EC2::SecurityGroup")
    assert {
        f.logical_id
        for f in verdict.classification.findings
        if f.stack == SECURITY and f.kind is Kind.REPLACEMENT and f.logical_id in security_groups
    } == set(security_groups)
    assert all(not f.blocked for f in verdict.classification.findings if f.kind is Kind.REPLACEMENT)
    # The VPC and subnet IDs and the group IDs other stacks import change with them.
    changed_exports = {
        (f.stack, f.logical_id)
        for f in verdict.classification.findings
        if f.kind is Kind.EXPORT_CHANGED
    }
    assert changed_exports == {
        *((NETWORK, o) for o in network["Outputs"] if o.startswith("ExportsOutputRefNetworkVpc")),
        *((SECURITY, o) for o in security["Outputs"] if "SecurityGroups" in o),
    }
    # The endpoints accept HTTPS from the VPC's range: a new range is a new source.
    endpoint_group = only(network, "AWS::EC2::SecurityGroup")
    widening = [f for f in verdict.classification.findings if f.kind is Kind.ACCESS_WIDENING]
    assert [(f.stack, f.logical_id, f.blocked) for f in widening] == [
        (NETWORK, endpoint_group, True)
    ]
    assert "10.40.0.0/16" in widening[0].why
    assert verdict.exit_code == 1


def test_renaming_a_named_log_group_replaces_it_and_the_flow_log_that_writes_to_it(
    base: Variant,
) -> None:
    log_group = "FlowLogGroup3E25AA51"
    flow_log = only(base.templates[SECURITY], "AWS::EC2::FlowLog")

    def rename(template: Json) -> None:
        template["Resources"][log_group]["Properties"]["LogGroupName"] = "/prod/webapp/flow-logs"

    new = edited(base.templates, SECURITY, rename)
    verdict = verdict_of(base.templates, new)
    assert summary(verdict.classification) == {
        (SECURITY, log_group, Kind.STATEFUL_REPLACEMENT),
        (SECURITY, flow_log, Kind.REPLACEMENT),
    }
    (replaced,) = finding(verdict.classification, SECURITY, flow_log)
    assert replaced.chain == (f"{SECURITY}/{log_group}", f"{SECURITY}/{flow_log}")
    assert [f.logical_id for f in verdict.refused] == [log_group]
    assert verdict.exit_code == 1


def test_a_new_ami_cycles_the_instances_and_blocks_nothing(base: Variant, new_ami: Variant) -> None:
    verdict = verdict_of(base.templates, new_ami.templates)
    compute = base.templates[COMPUTE]
    launch_template = only(compute, "AWS::EC2::LaunchTemplate")
    group = only(compute, "AWS::AutoScaling::AutoScalingGroup")
    assert summary(verdict.classification) == {(COMPUTE, launch_template, Kind.INSTANCE_CYCLING)}
    (cycling,) = verdict.classification.findings
    assert cycling.why == f"ImageId changed: a new version; the instances of {group} are replaced"
    assert verdict.exit_code == 0


def test_removing_an_export_the_deployed_consumer_still_imports_is_blocked(
    base: Variant, tmp_path: Path
) -> None:
    new = synthesize_prod(tmp_path, mutate=stop_using_the_access_log_bucket).templates
    verdict = verdict_of(base.templates, new)
    (output,) = (o for o in base.templates[SECURITY]["Outputs"] if "BucketsAccessLogs" in o)
    assert output not in new[SECURITY]["Outputs"]
    assert summary(verdict.classification) == {(SECURITY, output, Kind.EXPORT_REMOVED)}
    (removed,) = verdict.classification.findings
    assert removed.why.endswith(f"imported by {COMPUTE}")
    assert verdict.exit_code == 1
    # Acknowledged (and so deployed in two steps on purpose), it passes.
    acknowledged = Acknowledgment(
        stack=SECURITY,
        logical_id=output,
        change=Kind.EXPORT_REMOVED,
        reason="compute stopped importing it in the previous release",
    )
    assert verdict_of(base.templates, new, acknowledgments=(acknowledged,)).exit_code == 0


def grant_everything_in_s3(templates: Templates) -> tuple[Templates, str]:
    security = templates[SECURITY]
    (policy,) = (
        lid
        for lid in of_type(security, "AWS::IAM::ManagedPolicy")
        if {"Ref": only_role(security)} in security["Resources"][lid]["Properties"]["Roles"]
    )

    def add_statement(template: Json) -> None:
        document = template["Resources"][policy]["Properties"]["PolicyDocument"]
        document["Statement"].append({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})

    return edited(templates, SECURITY, add_statement), policy


def only_role(security: Json) -> str:
    (role,) = (r for r in of_type(security, "AWS::IAM::Role") if r.startswith("InstanceRole"))
    return role


def test_a_new_s3_wildcard_statement_widens_access_and_blocks_only_prod(base: Variant) -> None:
    new, policy = grant_everything_in_s3(base.templates)
    prod = verdict_of(base.templates, new)
    assert summary(prod.classification) == {(SECURITY, policy, Kind.ACCESS_WIDENING)}
    (widening,) = prod.classification.findings
    assert widening.why.startswith("Allow s3:* on *")
    assert prod.exit_code == 1
    elsewhere = verdict_of(base.templates, new, production=False)
    assert [f.blocked for f in elsewhere.classification.findings] == [False]
    assert elsewhere.exit_code == 0


def test_a_narrower_statement_is_no_widening() -> None:
    def template(action: str) -> Json:
        statement = {"Effect": "Allow", "Action": action, "Resource": "*"}
        properties = {"Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [statement]}}
        return {"Resources": {"Policy": {"Type": "AWS::IAM::Policy", "Properties": properties}}}

    narrower = classify(
        [StackChange("s", template("s3:*"), template("s3:GetObject"))], production=True
    )
    assert narrower.findings == ()
    wider = classify(
        [StackChange("s", template("s3:GetObject"), template("s3:*"))], production=True
    )
    assert summary(wider) == {("s", "Policy", Kind.ACCESS_WIDENING)}


def test_a_changed_description_is_harmless(base: Variant) -> None:
    key = only(base.templates[SECURITY], "AWS::KMS::Key")

    def describe(template: Json) -> None:
        template["Description"] = "A new stack description"
        template["Resources"][key]["Properties"]["Description"] = "A new key description"

    verdict = verdict_of(base.templates, edited(base.templates, SECURITY, describe))
    assert verdict.classification.findings == ()
    assert verdict.classification.unremarkable == (f"{SECURITY}/{key}",)
    assert verdict.exit_code == 0


def test_a_new_alarm_threshold_is_an_in_place_update_with_nothing_to_review(
    base: Variant, tmp_path: Path
) -> None:
    new = synthesize_prod(tmp_path, alarms={"responseTimeP99Seconds": 3.0}).templates
    verdict = verdict_of(base.templates, new)
    (p99,) = (
        logical_id
        for logical_id, resource in new[COMPUTE]["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"]["AlarmName"] == f"{COMPUTE}-target-response-time-p99"
    )
    assert verdict.classification.findings == ()
    assert f"{COMPUTE}/{p99}" in verdict.classification.unremarkable
    assert all(u.startswith(f"{COMPUTE}/") for u in verdict.classification.unremarkable)
    assert verdict.exit_code == 0


def test_what_the_cdk_rewrites_on_every_synth_is_not_a_change(base: Variant) -> None:
    def rewrite_metadata(template: Json) -> None:
        for resource in template["Resources"].values():
            resource.setdefault("Metadata", {})["aws:cdk:path"] = "Elsewhere/Resource"
        template["Resources"]["CDKMetadata"] = {
            "Type": "AWS::CDK::Metadata",
            "Properties": {"Analytics": "v2:deflate64:different"},
        }

    new = edited(base.templates, COMPUTE, rewrite_metadata)
    classification = classify(changes(base.templates, new), production=True)
    assert classification.findings == ()
    assert classification.unremarkable == ()


# DescribeChangeSet's `Changes`, in the shape the CloudFormation API reference documents
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html):
# "Action: Add | Modify | Remove | Import | Dynamic", "Replacement: True | False | Conditional",
# and each `ResourceChangeDetail` with a `Target` (`Attribute`, `Name`, and `RequiresRecreation`,
# "Never, Always, or Conditionally"), an `Evaluation` (Static | Dynamic), a `ChangeSource`
# (ResourceReference | ParameterReference | ResourceAttribute | DirectModification | Automatic)
# and, for a reference, the `CausingEntity` ("the identity of the entity that triggered this
# change", `LogicalId` or `LogicalId.Attribute`).
def recorded_change(
    logical_id: str, resource_type: str, replacement: str, details: list[Json]
) -> Json:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": f"{logical_id.lower()}-0123456789abcdef",
            "ResourceType": resource_type,
            "Replacement": replacement,
            "Scope": ["Properties"],
            "Details": details,
        },
    }


def detail(name: str, recreation: str, source: str, entity: str | None = None) -> Json:
    found: Json = {
        "Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation},
        "Evaluation": "Static" if source == "DirectModification" else "Dynamic",
        "ChangeSource": source,
    }
    if entity is not None:
        found["CausingEntity"] = entity
    return found


def test_a_change_set_decides_replacement_and_its_causing_entity_names_the_chain(
    base: Variant, new_vpc_range: Variant
) -> None:
    network = base.templates[NETWORK]
    vpc = only(network, "AWS::EC2::VPC")
    subnet = of_type(network, "AWS::EC2::Subnet")[0]
    recorded = [
        recorded_change(
            vpc, "AWS::EC2::VPC", "True", [detail("CidrBlock", "Always", "DirectModification")]
        ),
        recorded_change(
            subnet,
            "AWS::EC2::Subnet",
            "True",
            [detail("VpcId", "Always", "ResourceReference", vpc)],
        ),
    ]
    classification = classify(
        changes(base.templates, new_vpc_range.templates, **{NETWORK: recorded}), production=True
    )
    replaced_in_network = {
        (f.logical_id, f.kind)
        for f in classification.findings
        if f.stack == NETWORK and f.kind in (Kind.STATEFUL_REPLACEMENT, Kind.REPLACEMENT)
    }
    # Only what the change set replaces: the other subnets' entries were left out of it, and the
    # change set, not the schema, is the authority for its stack.
    assert replaced_in_network == {
        (vpc, Kind.STATEFUL_REPLACEMENT),
        (subnet, Kind.STATEFUL_REPLACEMENT),
    }
    (replaced,) = finding(classification, NETWORK, subnet)
    assert replaced.chain == (f"{NETWORK}/{vpc}", f"{NETWORK}/{subnet}")
    # Other stacks still follow the changed export of the VPC ID (their change sets could not).
    target_group = only(base.templates[COMPUTE], "AWS::ElasticLoadBalancingV2::TargetGroup")
    (group,) = finding(classification, COMPUTE, target_group)
    assert group.chain == (f"{NETWORK}/{vpc}", f"{COMPUTE}/{target_group}")


def test_a_conditional_replacement_of_a_log_group_is_blocked_and_a_false_one_is_not() -> None:
    def template(retention: int) -> Json:
        properties = {"LogGroupName": "/app", "RetentionInDays": retention}
        return {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": properties}}}

    conditional = [
        recorded_change(
            "Logs",
            "AWS::Logs::LogGroup",
            "Conditional",
            [detail("RetentionInDays", "Conditionally", "DirectModification")],
        )
    ]
    classified = classify(
        [StackChange("s", template(7), template(30), change_set=conditional)], production=False
    )
    assert summary(classified) == {("s", "Logs", Kind.STATEFUL_REPLACEMENT)}
    assert "Conditional" in classified.findings[0].why
    # An emulator's change set (moto) says "Modify" and nothing more: the schema decides.
    (unsaid,) = [recorded_change("Logs", "AWS::Logs::LogGroup", "False", [])]
    del unsaid["ResourceChange"]["Replacement"]
    renamed = {
        "Resources": {
            "Logs": {**template(7)["Resources"]["Logs"], "Properties": {"LogGroupName": "/b"}}
        }
    }
    assert summary(
        classify([StackChange("s", template(7), renamed, change_set=[unsaid])], production=False)
    ) == {("s", "Logs", Kind.STATEFUL_REPLACEMENT)}
    in_place = [recorded_change("Logs", "AWS::Logs::LogGroup", "False", [])]
    assert (
        classify(
            [StackChange("s", template(7), template(30), change_set=in_place)], production=False
        ).findings
        == ()
    )


def test_deleting_a_retained_resource_is_blocked(base: Variant) -> None:
    bucket = of_type(base.templates[SECURITY], "AWS::S3::Bucket")[0]
    new = edited(base.templates, SECURITY, lambda t: t["Resources"].pop(bucket))
    verdict = verdict_of(base.templates, new)
    deletions = [f for f in verdict.classification.findings if f.kind is Kind.STATEFUL_DELETION]
    assert [(f.logical_id, f.blocked) for f in deletions] == [(bucket, True)]
    assert "RetainExceptOnCreate keeps it" in deletions[0].why
    assert verdict.exit_code == 1


def test_a_stale_acknowledgment_fails_the_check(base: Variant, new_ami: Variant) -> None:
    vpc = only(base.templates[NETWORK], "AWS::EC2::VPC")
    stale = Acknowledgment(NETWORK, vpc, Kind.STATEFUL_REPLACEMENT, "moved to 10.40/16 last month")
    other_environment = Acknowledgment(
        "dev-webapp-network", vpc, Kind.STATEFUL_REPLACEMENT, "dev is judged by its own run"
    )
    verdict = verdict_of(
        base.templates, new_ami.templates, acknowledgments=(stale, other_environment)
    )
    assert verdict.stale == (stale,)
    assert verdict.exit_code == 1
    assert f"STALE acknowledgment (matches no change; remove it): {NETWORK}/{vpc}" in render(
        verdict
    )


def test_an_acknowledgment_names_one_exact_change_with_a_reason() -> None:
    entry = {
        "stack": NETWORK,
        "logicalId": "Vpc",
        "change": "stateful-replacement",
        "reason": "the new range is agreed",
    }
    (parsed,) = parse({"acknowledgments": [entry]})
    assert parsed == Acknowledgment(NETWORK, "Vpc", Kind.STATEFUL_REPLACEMENT, entry["reason"])
    with pytest.raises(AcknowledgmentError, match="reason must say why"):
        parse({"acknowledgments": [{**entry, "reason": "ok"}]})
    with pytest.raises(AcknowledgmentError, match="'replace' is not one of"):
        parse({"acknowledgments": [{**entry, "change": "replace"}]})
    with pytest.raises(AcknowledgmentError, match="exactly stack, logicalId, change, reason"):
        parse({"acknowledgments": [{"stack": NETWORK}]})


def test_the_committed_acknowledgments_file_is_valid() -> None:
    for acknowledgment in load():
        assert acknowledgment.stack.split("-")[0] in fixture_context()["environments"]


# Every stateful type the prod environment uses, so that a new one is a decision, not a surprise.
PROD_STATEFUL_TYPES = {
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::CertificateManager::Certificate",
    "AWS::Route53::RecordSet",
    "AWS::SNS::Topic",
}


def test_the_prod_stack_policy_denies_replacing_or_deleting_every_stateful_resource(
    base: Variant,
) -> None:
    protected_types: set[str] = set()
    for name, template in base.templates.items():
        policy = stack_policy(template)
        allow, deny = policy["Statement"]
        assert allow == {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}
        assert deny["Effect"] == "Deny"
        assert deny["Action"] == ["Update:Replace", "Update:Delete"]
        denied = {r.removeprefix("LogicalResourceId/") for r in deny["Resource"]}
        for logical_id, resource in template["Resources"].items():
            expected = resource["Type"] in PROD_STATEFUL_TYPES or resource.get(
                "DeletionPolicy"
            ) in ("Retain", "RetainExceptOnCreate", "Snapshot")
            assert (logical_id in denied) == expected, f"{name}/{logical_id}"
            assert is_stateful(resource) == expected, f"{name}/{logical_id}"
            if logical_id in denied:
                protected_types.add(resource["Type"])
        # A stack policy body is at most 16 KB.
        assert len(json.dumps(policy)) < 16_384
    assert protected_types == PROD_STATEFUL_TYPES


def test_compare_prints_the_table_and_exits_non_zero_only_on_a_blocked_change(
    base: Variant, new_ami: Variant, new_vpc_range: Variant, tmp_path: Path, capsys: Any
) -> None:
    acknowledgments = tmp_path / "acknowledgments.json"
    acknowledgments.write_text('{"acknowledgments": []}')
    # What `make check-change` runs once both sides are synthesized.
    assert (
        compare(base.outdir, new_ami.outdir, environment="prod", acknowledgments=acknowledgments)
        == 0
    )
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["resource", "change", "risk", "why"]
    assert any(row.split()[1:3] == ["instance-cycling", "review"] for row in table.splitlines())
    code = compare(
        base.outdir, new_vpc_range.outdir, environment="prod", acknowledgments=acknowledgments
    )
    assert code == 1
    assert "blocked change(s)" in capsys.readouterr().out


def test_acknowledging_a_replacement_does_not_let_a_deletion_through() -> None:
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "data"}}
    old = {"Resources": {"Data": bucket}}
    renamed = {"Resources": {"Data": {**bucket, "Properties": {"BucketName": "data-2"}}}}
    replacement = Acknowledgment("s", "Data", Kind.STATEFUL_REPLACEMENT, "the data was migrated")
    assert (
        judge(classify([StackChange("s", old, renamed)], production=False), [replacement]).exit_code
        == 0
    )
    deleted = judge(
        classify([StackChange("s", old, {"Resources": {}})], production=False), [replacement]
    )
    assert [f.kind for f in deleted.refused] == [Kind.STATEFUL_DELETION]
    assert deleted.stale == (replacement,)
    assert deleted.exit_code == 1


@pytest.mark.parametrize(
    ("deletion_policy", "kind"),
    [("Retain", Kind.STATEFUL_REPLACEMENT), ("Delete", Kind.REPLACEMENT)],
)
def test_any_resource_someone_chose_to_retain_is_stateful(deletion_policy: str, kind: Kind) -> None:
    def stream(name: str) -> Json:
        resource = {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": name}}
        return {"Resources": {"Events": {**resource, "DeletionPolicy": deletion_policy}}}

    classified = classify(
        [StackChange("s", stream("events"), stream("events-2"))], production=False
    )
    assert summary(classified) == {("s", "Events", kind)}


def test_change_sets_are_described_then_deleted_and_no_stack_is_touched() -> None:
    """The pipeline step's plumbing, against moto: which emulator change set says nothing about
    replacement, so the schema decides (see the change-set tests above for AWS's own shape)."""
    import boto3
    from moto import mock_aws

    from tools.change_safety.change_sets import stack_changes
    from tools.cloud_assembly import Stack

    def logs(name: str, padding: int = 0) -> Json:
        properties = {"LogGroupName": name, "RetentionInDays": 7}
        template: Json = {
            "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": properties}}
        }
        # Above CloudFormation's 51,200-byte TemplateBody limit, the template goes through S3.
        template["Description"] = "x" * padding
        return template

    def stack(name: str, template: Json) -> Stack:
        return Stack(
            artifact_id=name,
            path=name,
            stack_name=name,
            template=template,
            account="123456789012",
            region="us-east-1",
        )

    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        cloudformation = session.client("cloudformation")
        session.client("s3").create_bucket(Bucket="cdk-hnb659fds-assets-123456789012-us-east-1")
        cloudformation.create_stack(StackName="small", TemplateBody=json.dumps(logs("/a")))
        cloudformation.create_stack(StackName="large", TemplateBody=json.dumps(logs("/b")))
        found = stack_changes(
            [
                stack("small", logs("/a-renamed")),
                stack("large", logs("/b", padding=60_000)),
                stack("new", logs("/c")),
            ],
            session,
            assume_bootstrap_roles=False,
        )
        classified = classify(found, production=True)
        assert summary(classified) == {("small", "Logs", Kind.STATEFUL_REPLACEMENT)}
        assert [c.stack for c in found if c.change_set is not None] == ["small", "large"]
        for name in ("small", "large"):
            assert cloudformation.list_change_sets(StackName=name)["Summaries"] == []
        # Above the TemplateBody limit the template went through the bootstrap bucket.
        uploaded = session.client("s3").list_objects_v2(
            Bucket="cdk-hnb659fds-assets-123456789012-us-east-1"
        )["Contents"]
        assert [o["Key"].startswith("change-safety/large-") for o in uploaded] == [True]
        deployed = cloudformation.get_template(StackName="small")["TemplateBody"]
        assert deployed["Resources"]["Logs"]["Properties"]["LogGroupName"] == "/a"
        with pytest.raises(cloudformation.exceptions.ClientError, match="does not exist"):
            cloudformation.describe_stacks(StackName="new")


@pytest.mark.parametrize(
    "refusal",
    ["failed change set", "refused at create"],
)
def test_a_consumer_of_an_export_its_producer_adds_in_the_same_deploy_is_predicted_not_failed(
    refusal: str,
) -> None:
    """Every change set of an environment is made before any of its stacks deploys: a consumer
    that imports an export its producer only creates in this deploy gets no change set ("No
    export named ... found"). The gate predicts from the schemas instead of failing every run.
    moto does not check imports, so CloudFormation's two documented answers are stubbed on a
    real botocore client."""
    import boto3
    from botocore.stub import ANY, Stubber

    from tools.change_safety.change_sets import Clients, _changes_or_prediction
    from tools.cloud_assembly import Stack

    reason = "No export named producer:NotExportedYet found"
    cloudformation = boto3.client(
        "cloudformation",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stub = Stubber(cloudformation)
    if refusal == "refused at create":
        stub.add_client_error("create_change_set", "ValidationError", reason)
    else:
        stub.add_response("create_change_set", {"Id": "arn:change-set", "StackId": "arn:stack"})
        stub.add_response(
            "describe_change_set",
            {"Status": "FAILED", "StatusReason": reason, "Changes": []},
            {"StackName": "consumer", "ChangeSetName": ANY},
        )
        # A change set that was created is deleted, failed or not.
        stub.add_response("delete_change_set", {}, {"StackName": "consumer", "ChangeSetName": ANY})
    consumer = Stack(
        artifact_id="consumer",
        path="consumer",
        stack_name="consumer",
        template={"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}},
        account="123456789012",
        region="us-east-1",
    )

    with stub:
        found = _changes_or_prediction(
            consumer, {"Resources": {}}, Clients(cloudformation, None, None)
        )
        stub.assert_no_pending_responses()

    assert found is None


def test_make_diff_without_credentials_says_once_what_it_needs_and_the_offline_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The CDK CLI would print "no credentials have been configured" once per stack instead.
    from tools.change_safety.__main__ import has_credentials

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(
        "tools.change_safety.__main__.cdk_json_context",
        lambda: {"environments": {"dev": {"account": "210987654321"}}},
    )

    assert has_credentials("dev") == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "account 210987654321" in line
    assert "make check-change ENV=dev BASE=" in line

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert has_credentials("dev") == 0
