"""The security stack: key, flow logs, tier security groups, instance role, buckets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.config import AppConfig, ContextCacheError, EnvironmentConfig
from constructs_lib.security import AUTOSCALING_ROLE_NAME
from stacks.factory import create_app
from stacks.web_tier_stage import WebTierStage
from tests.conftest import REPO, Synthesized
from tests.template_utils import as_list, document, only, resources, statements, template_of
from tools.cloud_assembly import CloudAssembly, read
from tools.context import cdk_json_context, fixture_context

Templates = dict[str, dict[str, Template]]
CONFIG = AppConfig.from_context(fixture_context())
SLR_ARN = (
    "arn:aws:iam::333333333333:role/aws-service-role/autoscaling.amazonaws.com/"
    + AUTOSCALING_ROLE_NAME
)
# What the Session Manager agent calls to open a shell: without one of them there is no session,
# and no SSH to fall back on. None has resource-level permissions.
SESSION_MANAGER_CHANNEL_ACTIONS = {
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
}
# The only actions granted on `*` besides PutMetricData (held to one namespace by its condition):
# none of them has resource-level permissions.
WILDCARD_ACTIONS = {*SESSION_MANAGER_CHANNEL_ACTIONS, "elasticloadbalancing:DescribeTargetHealth"}


def key_statement(template: Template, sid: str) -> dict[str, Any]:
    _, key = only(template, "AWS::KMS::Key")
    found = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"no key policy statement {sid}"
    statement: dict[str, Any] = found[0]
    return statement


def rules(template: Template, group_logical_id: str, direction: str) -> list[dict[str, Any]]:
    """Inline and standalone rules of one security group, direction 'Ingress' or 'Egress'."""
    group = document(template)["Resources"][group_logical_id]["Properties"]
    inline: list[dict[str, Any]] = list(group.get(f"SecurityGroup{direction}", []))
    standalone = [
        r["Properties"]
        for r in resources(template, f"AWS::EC2::SecurityGroup{direction}").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group_logical_id, "GroupId"]}
    ]
    return inline + standalone


def group_id(template: Template, description_start: str) -> str:
    for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items():
        if group["Properties"]["GroupDescription"].startswith(description_start):
            return logical_id
    raise AssertionError(f"no security group described as {description_start!r}")


def ref_to(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "GroupId"]}


def test_key_rotates(prod: dict[str, Template]) -> None:
    prod["security"].has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_key_policy_lets_the_autoscaling_service_linked_role_use_the_key_for_ebs(
    prod: dict[str, Template],
) -> None:
    statement = key_statement(prod["security"], "AutoScalingUsesTheKeyForEbs")

    assert statement["Principal"] == {"AWS": SLR_ARN}
    assert set(statement["Action"]) == {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
    }


def test_key_policy_limits_autoscaling_grants_to_aws_resources(prod: dict[str, Template]) -> None:
    statement = key_statement(prod["security"], "AutoScalingAttachesEncryptedVolumes")

    assert statement["Principal"] == {"AWS": SLR_ARN}
    assert statement["Action"] == "kms:CreateGrant"
    assert statement["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": True}}


def test_service_linked_role_exists_before_the_key_policy_names_it(
    prod: dict[str, Template],
) -> None:
    template = prod["security"]
    _, key = only(template, "AWS::KMS::Key")
    guard_id, _ = only(template, "Custom::AutoScalingServiceLinkedRole")

    assert guard_id in key["DependsOn"]


def test_service_linked_role_guard_may_only_create_the_autoscaling_role(
    prod: dict[str, Template],
) -> None:
    creates = [
        s
        for _, s in statements(prod["security"])
        if "iam:CreateServiceLinkedRole" in as_list(s["Action"])
    ]

    assert len(creates) == 1
    assert creates[0]["Resource"] == SLR_ARN
    assert creates[0]["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}
    }


def test_service_linked_role_guard_is_left_out_where_it_cannot_run(
    templates: Templates,
) -> None:
    # `ensureServiceLinkedRole: false` in the local (emulator) environment only.
    templates["local"]["security"].resource_count_is("Custom::AutoScalingServiceLinkedRole", 0)
    templates["local"]["security"].resource_count_is("AWS::Lambda::Function", 0)


def test_flow_logs_record_all_traffic_of_the_vpc_into_an_encrypted_log_group(
    prod: dict[str, Template],
) -> None:
    template = prod["security"]
    _, flow_log = only(template, "AWS::EC2::FlowLog")
    log_group_id = flow_log["Properties"]["LogGroupName"]["Ref"]
    log_group = document(template)["Resources"][log_group_id]["Properties"]

    assert flow_log["Properties"]["TrafficType"] == "ALL"
    assert flow_log["Properties"]["ResourceType"] == "VPC"
    assert "KmsKeyId" in log_group
    assert log_group["RetentionInDays"] == 365


def test_every_log_group_is_encrypted_with_the_environment_key_or_says_why_not(
    templates: Templates,
) -> None:
    # The one exception: deploy-time handlers' own, unnamed logs (the key may not exist yet
    # when the service-linked-role guard runs: the key depends on it).
    for env, stacks in templates.items():
        for component, template in stacks.items():
            for logical_id, group in resources(template, "AWS::Logs::LogGroup").items():
                if "LogGroupName" not in group["Properties"]:
                    continue
                assert "KmsKeyId" in group["Properties"], f"{env} {component} {logical_id}"


def test_web_tier_accepts_only_https_and_http_from_the_internet(prod: dict[str, Template]) -> None:
    template = prod["security"]
    web = group_id(template, "Web tier")

    ingress = {
        (r["FromPort"], r["ToPort"], r.get("CidrIp")) for r in rules(template, web, "Ingress")
    }

    assert ingress == {(443, 443, "0.0.0.0/0"), (80, 80, "0.0.0.0/0")}


def test_web_tier_without_a_certificate_opens_only_http(dev: dict[str, Template]) -> None:
    template = dev["security"]
    web = group_id(template, "Web tier")

    ingress = {(r["FromPort"], r.get("CidrIp")) for r in rules(template, web, "Ingress")}

    assert ingress == {(80, "0.0.0.0/0")}


def test_app_tier_accepts_traffic_only_from_the_load_balancer(prod: dict[str, Template]) -> None:
    template = prod["security"]
    app, web = group_id(template, "App tier"), group_id(template, "Web tier")

    ingress = rules(template, app, "Ingress")

    assert [(r["FromPort"], r["ToPort"], r["SourceSecurityGroupId"]) for r in ingress] == [
        (8080, 8080, ref_to(web))
    ]


def test_database_tier_accepts_traffic_only_from_the_app_tier(prod: dict[str, Template]) -> None:
    template = prod["security"]
    db, app = group_id(template, "Database tier"), group_id(template, "App tier")

    ingress = rules(template, db, "Ingress")

    assert [(r["FromPort"], r["ToPort"], r["SourceSecurityGroupId"]) for r in ingress] == [
        (5432, 5432, ref_to(app))
    ]


def test_egress_is_limited_to_what_each_tier_needs(prod: dict[str, Template]) -> None:
    template = prod["security"]
    web, app, db = (group_id(template, d) for d in ("Web tier", "App tier", "Database tier"))

    def egress(group: str) -> set[tuple[Any, ...]]:
        return {
            (
                r["FromPort"],
                r.get("CidrIp") or str(r.get("DestinationSecurityGroupId")),
            )
            for r in rules(template, group, "Egress")
        }

    # CDK's placeholder for "no egress at all" is ICMP to 255.255.255.255/32.
    nothing = {(252, "255.255.255.255/32")}
    assert egress(web) - nothing == {(8080, str(ref_to(app)))}
    assert egress(app) == {(5432, str(ref_to(db))), (443, "0.0.0.0/0")}
    assert egress(db) == nothing


def app_egress(template: Template) -> list[dict[str, Any]]:
    """The app tier's egress rules without their descriptions or the rule to the database."""
    app = group_id(template, "App tier")
    return [
        {k: v for k, v in rule.items() if k not in ("Description", "GroupId")}
        for rule in rules(template, app, "Egress")
        if "DestinationSecurityGroupId" not in rule
    ]


def cached_s3_prefix_list(environment: EnvironmentConfig) -> str:
    """The S3 prefix list ID the fixture caches for the environment's account/region."""
    (cached,) = (
        value[0]["PrefixListId"]
        for key, value in fixture_context().items()
        if key.startswith("cc-api-provider:")
        and f":account={environment.account}:" in key
        and f":region={environment.region}:" in key
        and f"=com.amazonaws.{environment.region}.s3:" in key
    )
    assert isinstance(cached, str)
    return cached


# The fixture's environments by egress; a test below holds the split to the fixture.
NAT_LESS = ["local"]
WITH_NAT = ["dev", "prod", "staging"]


def test_the_egress_tests_split_the_fixtures_environments_by_their_nat_gateways() -> None:
    nat_less = sorted(e.name for e in CONFIG.environments if e.network.nat_gateways == 0)
    with_nat = sorted(e.name for e in CONFIG.environments if e.network.nat_gateways > 0)

    assert (nat_less, with_nat) == (NAT_LESS, WITH_NAT)


@pytest.mark.parametrize("env", NAT_LESS)
def test_without_nat_the_app_tier_reaches_only_the_endpoints_and_s3_over_https(
    templates: Templates, env: str
) -> None:
    environment = next(e for e in CONFIG.environments if e.name == env)

    egress = app_egress(templates[env]["security"])

    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    assert sorted(egress, key=str) == sorted(
        [
            {**https, "CidrIp": environment.network.vpc_cidr},
            {**https, "DestinationPrefixListId": cached_s3_prefix_list(environment)},
        ],
        key=str,
    )


# What `cdk context` / `make context` writes for an account's S3 prefix list in eu-west-1
# (CDK's Cloud Control context provider, as PrefixList.from_lookup asks it).
EU_WEST_1_S3 = "pl-6da54004"


def s3_cache_key(account: str, region: str) -> str:
    return (
        f"cc-api-provider:account={account}:expectedMatchCount=exactly-one:"
        f"propertiesToReturn.0=PrefixListId:propertyMatch.PrefixListName=com.amazonaws.{region}.s3:"
        f"region={region}:typeName=AWS$:$:EC2$:$:PrefixList"
    )


def aws_only_context(regions: dict[str, str], **context: Any) -> dict[str, Any]:
    """A small app of AWS-only egress environments (name -> region) in account 111111111111,
    with cdk.json's feature flags only: no committed environment or cache entry takes part."""
    flags = {k: v for k, v in cdk_json_context().items() if k.startswith("@")}
    environments = {
        name: {
            "account": "111111111111",
            "region": region,
            "availabilityZones": [f"{region}a", f"{region}b"],
            "network": {"vpcCidr": f"10.{40 + index}.0.0/16", "natGateways": 0},
            "fleet": {
                "instanceType": "t3.small",
                # AMI IDs are regional: one per environment's region.
                "amiId": f"ami-{index:017x}",
                "minCapacity": 1,
                "maxCapacity": 2,
            },
        }
        for index, (name, region) in enumerate(regions.items())
    }
    return {
        **flags,
        "project": "webapp",
        "owner": "platform-team",
        "costCenter": "cc-1234",
        "environments": environments,
        **context,
    }


def synthesize_quickly(context: dict[str, Any], outdir: Path) -> CloudAssembly:
    # The session synth runs the template validation and cfn-guard over the same constructs.
    app = create_app(
        context,
        outdir=str(outdir),
        builtin_cloud_formation_validation=False,
        cfn_guard_plugin=False,
    )
    app.synth()
    return read(outdir)


def test_aws_only_egress_in_another_region_names_that_regions_cached_s3_prefix_list(
    tmp_path: Path,
) -> None:
    context = aws_only_context(
        {"eu": "eu-west-1"},
        **{s3_cache_key("111111111111", "eu-west-1"): [{"PrefixListId": EU_WEST_1_S3}]},
    )

    assembly = synthesize_quickly(context, tmp_path)

    security = template_of(assembly.stack("eu-webapp-security").template)
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    assert {**https, "DestinationPrefixListId": EU_WEST_1_S3} in app_egress(security)
    # Nothing left for the CLI to look up: `cdk synth` would not call AWS.
    assert assembly.missing_context == ()


def test_a_region_missing_from_the_context_cache_is_named_with_the_command_that_fills_it() -> None:
    context = aws_only_context({"eu": "eu-west-1", "sydney": "ap-southeast-2"})

    with pytest.raises(ContextCacheError) as caught:
        create_app(context, builtin_cloud_formation_validation=False, cfn_guard_plugin=False)

    found = caught.value.problems
    assert [(p.path, p.value) for p in found] == [
        ("environments.eu.natGateways", 0),
        ("environments.sydney.natGateways", 0),
    ]
    assert "com.amazonaws.eu-west-1.s3" in found[0].allowed
    assert "has none for account 111111111111" in found[0].allowed
    assert "run `make context ENV=eu` and commit cdk.context.json" in found[0].allowed


def test_cdk_synth_of_a_region_missing_from_the_cache_prints_the_fix_not_a_traceback(
    tmp_path: Path,
) -> None:
    context = aws_only_context({"eu": "eu-west-1"})
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        # How the CDK CLI hands the app its context and output folder.
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(tmp_path),
    }

    run = subprocess.run(
        [sys.executable, str(REPO / "app.py")],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert run.returncode == 1, run.stderr
    assert "Missing from cdk.context.json" in run.stderr
    assert "make context ENV=eu" in run.stderr
    assert "Traceback" not in run.stderr
    # No manifest: the CLI gets no lookup to make, so it never calls AWS for it.
    assert not (tmp_path / "manifest.json").exists()


def test_make_context_lets_the_cli_look_up_exactly_the_key_the_cache_is_read_from(
    tmp_path: Path,
) -> None:
    assembly = synthesize_quickly(aws_only_context({"eu": "eu-west-1"}, lookups="true"), tmp_path)

    # Listed by the stage's assembly and by the app's: one key either way.
    assert set(assembly.missing_context) == {s3_cache_key("111111111111", "eu-west-1")}


@pytest.mark.parametrize("env", WITH_NAT)
def test_with_nat_the_app_tier_keeps_https_anywhere_and_says_why(
    templates: Templates, env: str
) -> None:
    template = templates[env]["security"]
    app = group_id(template, "App tier")
    (anywhere,) = [r for r in rules(template, app, "Egress") if r.get("CidrIp") == "0.0.0.0/0"]

    assert (anywhere["FromPort"], anywhere["ToPort"]) == (443, 443)
    assert "accepted" in anywhere["Description"]


def test_every_security_group_rule_is_described(templates: Templates) -> None:
    for env, stacks in templates.items():
        for component, template in stacks.items():
            groups = resources(template, "AWS::EC2::SecurityGroup")
            for group_logical_id in groups:
                for direction in ("Ingress", "Egress"):
                    for rule in rules(template, group_logical_id, direction):
                        assert rule.get("Description"), f"{env} {component} {group_logical_id}"


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "local"])
def test_no_security_group_allows_ssh_or_the_internet_except_the_load_balancer(
    templates: Templates, env: str
) -> None:
    for component, template in templates[env].items():
        for group_logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items():
            for rule in rules(template, group_logical_id, "Ingress"):
                assert not rule["FromPort"] <= 22 <= rule["ToPort"], f"{component} {rule}"
                if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0":
                    assert group["Properties"]["GroupDescription"].startswith("Web tier")
                    assert rule["FromPort"] in (80, 443)


def test_instance_role_uses_session_manager_instead_of_ssh(prod: dict[str, Template]) -> None:
    actions = {a for _, s in statements(prod["security"]) for a in as_list(s["Action"])}

    assert {"ssm:UpdateInstanceInformation", *SESSION_MANAGER_CHANNEL_ACTIONS} <= actions


def test_instance_role_reads_only_named_versions_under_the_release_prefix_of_the_artifact_bucket(
    prod: dict[str, Template],
) -> None:
    actions = {a for _, s in statements(prod["security"]) for a in as_list(s["Action"])}
    reads = [
        s for _, s in statements(prod["security"]) if "s3:GetObjectVersion" in as_list(s["Action"])
    ]

    # The latest version of a key is beyond reach: an overwritten release cannot be installed.
    assert "s3:GetObject" not in actions

    artifacts = next(k for k in resources(prod["security"], "AWS::S3::Bucket") if "Artifacts" in k)

    assert [r["Resource"] for r in reads] == [
        {"Fn::Join": ["", [{"Fn::GetAtt": [artifacts, "Arn"]}, "/releases/*"]]}
    ]


def test_instance_role_signals_only_the_compute_stack_of_its_environment(
    prod: dict[str, Template],
) -> None:
    signals = [
        s
        for _, s in statements(prod["security"])
        if "cloudformation:SignalResource" in as_list(s["Action"])
    ]

    assert [s["Resource"] for s in signals] == [
        "arn:aws:cloudformation:us-east-1:333333333333:stack/prod-webapp-compute/*"
    ]


def test_wildcard_resources_are_only_on_actions_without_resource_level_permissions(
    templates: Templates,
) -> None:
    for env, stacks in templates.items():
        for component, template in stacks.items():
            for logical_id, statement in statements(template):
                if "*" not in as_list(statement["Resource"]):
                    continue
                actions = set(as_list(statement["Action"]))
                if actions == {"cloudwatch:PutMetricData"}:
                    # PutMetricData: held to one namespace by its condition instead.
                    assert "cloudwatch:namespace" in statement["Condition"]["StringEquals"]
                    continue
                assert actions <= WILDCARD_ACTIONS, f"{env} {component} {logical_id}: {statement}"


def test_instance_role_puts_metrics_only_in_the_cloudwatch_agents_namespace(
    prod: dict[str, Template],
) -> None:
    puts = [
        s
        for _, s in statements(prod["security"])
        if "cloudwatch:PutMetricData" in as_list(s["Action"])
    ]

    assert [(s["Effect"], s["Action"], s["Resource"], s["Condition"]) for s in puts] == [
        (
            "Allow",
            "cloudwatch:PutMetricData",
            "*",
            {"StringEquals": {"cloudwatch:namespace": "webapp/prod/instances"}},
        )
    ]


def test_instance_role_writes_logs_only_to_the_instance_log_group(
    prod: dict[str, Template],
) -> None:
    template = prod["security"]
    (group_id,) = (
        logical_id
        for logical_id, group in resources(template, "AWS::Logs::LogGroup").items()
        if group["Properties"].get("LogGroupName") == "/prod/webapp/compute/instances"
    )
    writes = [
        s
        for policy_id, s in statements(template)
        if policy_id.startswith("InstanceRolePolicy")
        and any(a.startswith("logs:") for a in as_list(s["Action"]))
    ]
    arn = {"Fn::GetAtt": [group_id, "Arn"]}

    assert [s["Resource"] for s in writes] == [[arn, {"Fn::Join": ["", [arn, ":log-stream:*"]]}]]
    assert sorted(as_list(writes[0]["Action"])) == [
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]


def test_roles_of_this_app_carry_no_inline_policy(templates: Templates) -> None:
    for env, stacks in templates.items():
        for component, template in stacks.items():
            template.resource_count_is("AWS::IAM::Policy", 0)
            for logical_id, role in resources(template, "AWS::IAM::Role").items():
                # CDK's own provider for restrictDefaultSecurityGroup (scoped by CDK to the
                # default group's rules) is the one role this app does not define.
                if logical_id.startswith("CustomVpcRestrictDefaultSG"):
                    continue
                assert "Policies" not in role["Properties"], f"{env} {component} {logical_id}"


@pytest.mark.parametrize("bucket", ["Artifacts", "AccessLogs"])
def test_buckets_block_public_access_enforce_tls_and_keep_versions(
    prod: dict[str, Template], bucket: str
) -> None:
    template = prod["security"]
    logical_id = next(k for k in resources(template, "AWS::S3::Bucket") if bucket in k)

    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )
    policies = resources(template, "AWS::S3::BucketPolicy")
    policy = next(p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": logical_id})
    template_statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in template_statements
    )


def test_artifact_bucket_is_encrypted_with_the_key_and_access_logged(
    prod: dict[str, Template],
) -> None:
    template = prod["security"]
    key_id, _ = only(template, "AWS::KMS::Key")
    artifacts = next(
        v for k, v in resources(template, "AWS::S3::Bucket").items() if "Artifacts" in k
    )
    encryption = artifacts["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]

    assert encryption["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert "DestinationBucketName" in artifacts["Properties"]["LoggingConfiguration"]


def test_access_log_bucket_uses_s3_managed_encryption_that_log_delivery_supports(
    prod: dict[str, Template],
) -> None:
    logs_bucket = next(
        v for k, v in resources(prod["security"], "AWS::S3::Bucket").items() if "AccessLogs" in k
    )
    encryption = logs_bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]

    assert encryption[0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


@pytest.mark.parametrize(
    ("env", "policy"), [("prod", "RetainExceptOnCreate"), ("dev", "Delete"), ("staging", "Delete")]
)
def test_stateful_resources_are_retained_only_in_prod(
    templates: Templates, env: str, policy: str
) -> None:
    template = templates[env]["security"]
    for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket"):
        for logical_id, resource in resources(template, resource_type).items():
            assert resource["DeletionPolicy"] == policy, f"{env} {logical_id}"
    for logical_id, resource in resources(template, "AWS::Logs::LogGroup").items():
        if "LogGroupName" in resource["Properties"]:
            assert resource["DeletionPolicy"] == policy, f"{env} {logical_id}"


# Renaming one of these replaces a key, a bucket or a log group: data would be lost or orphaned.
STATEFUL_LOGICAL_IDS = {
    "AWS::KMS::Key": ["EncryptionKey3A692D6E"],
    "AWS::S3::Bucket": ["BucketsAccessLogsA5F88218", "BucketsArtifactsB9EE6400"],
    "AWS::Logs::LogGroup": [
        "EncryptionAutoScalingRoleGuardLogGroup2663C41C",
        "FlowLogGroup3E25AA51",
        "InstanceLogGroupB49DDDE8",
    ],
}


@pytest.mark.parametrize("resource_type", sorted(STATEFUL_LOGICAL_IDS))
def test_stateful_resources_keep_their_logical_ids_so_a_refactor_cannot_replace_them(
    prod: dict[str, Template], resource_type: str
) -> None:
    assert sorted(resources(prod["security"], resource_type)) == STATEFUL_LOGICAL_IDS[resource_type]


def test_prod_stacks_have_termination_protection(synthesized: Synthesized) -> None:
    app = synthesized.app
    stages = {s.environment.name: s for s in app.node.children if isinstance(s, WebTierStage)}

    assert all(s.termination_protection for s in stages["prod"].stacks.values())
    assert not any(s.termination_protection for s in stages["dev"].stacks.values())


def test_key_lets_cloudwatch_alarms_publish_to_its_encrypted_topics_as_sns_documents_it(
    prod: dict[str, Template],
) -> None:
    _, key = only(prod["security"], "AWS::KMS::Key")
    (grant,) = (
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    )

    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    # SNS makes these KMS calls; a source condition they do not carry would drop every page.
    # Which alarms may publish is the topic policies' job (test_compute).
    assert "Condition" not in grant
