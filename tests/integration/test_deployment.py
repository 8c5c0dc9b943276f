"""The `local` environment as deployed into the emulator, read back through the AWS API.

Each test asserts what the API reports, never what the template says it asked for. What the
emulator does not model is not asserted here:
- security-group egress: moto ignores the `SecurityGroupEgress` property and skips
  `AWS::EC2::SecurityGroupEgress`, so every group shows moto's default allow-all egress (egress
  can only be asserted on the synthesized template);
- resources of the types in `SKIPPED_BY_THE_EMULATOR` (see the test that pins that list);
- tags of NAT gateways, EIPs, the internet gateway, route tables, VPC endpoints, the SNS topic,
  the load balancer and the target group, which moto's CloudFormation does not store.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

import pytest

from constructs_lib.core import COMPUTE, NETWORK, SECURITY
from tests.integration.conftest import Deployment
from tools.dev.emulator import DeployedResource, skipped_resources, stack_resources

pytestmark = pytest.mark.integration

# The subnet group name: the app tier (`Private`) is PRIVATE_ISOLATED in the AWS-only egress mode.
TIER_TAG = "aws-cdk:subnet-name"
PUBLIC, PRIVATE, ISOLATED = "Public", "Private", "Isolated"
ANYWHERE = {"0.0.0.0/0", "::/0"}
# moto 5.2.5 has no CloudFormation support for these: it lists them without a type and creates
# nothing. A type missing from this list fails the test below, so nobody relies on it unknowingly.
SKIPPED_BY_THE_EMULATOR = {
    "AWS::AutoScaling::ScalingPolicy",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::WAFv2::LoggingConfiguration",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
}
# Resource types whose tags moto stores and returns.
TAGGED_BY_THE_EMULATOR = (
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::EC2::FlowLog",
    "AWS::EC2::LaunchTemplate",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
)


def stack_name(deployment: Deployment, component: str) -> str:
    return deployment.config.naming(deployment.environment).stack_name(component)


def resources(deployment: Deployment, component: str, resource_type: str) -> list[DeployedResource]:
    deployed = stack_resources(deployment.emulator, stack_name(deployment, component))
    return [r for r in deployed.values() if r.resource_type == resource_type]


def only(items: list[Any]) -> Any:
    assert len(items) == 1, f"expected exactly one, found {len(items)}: {items}"
    return items[0]


def tags(resource: dict[str, Any]) -> dict[str, str]:
    return {str(tag["Key"]): str(tag["Value"]) for tag in resource.get("Tags", [])}


@pytest.fixture(scope="module")
def vpc_id(deployment: Deployment) -> str:
    vpc: DeployedResource = only(resources(deployment, NETWORK, "AWS::EC2::VPC"))
    return vpc.physical_id


@pytest.fixture(scope="module")
def subnets(deployment: Deployment, vpc_id: str) -> list[dict[str, Any]]:
    found = deployment.client("ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["Subnets"]
    return list(found)


@pytest.fixture(scope="module")
def group(deployment: Deployment) -> dict[str, Any]:
    name = only(resources(deployment, COMPUTE, "AWS::AutoScaling::AutoScalingGroup")).physical_id
    groups = deployment.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name]
    )["AutoScalingGroups"]
    found: dict[str, Any] = only(groups)
    return found


@pytest.fixture(scope="module")
def load_balancer(deployment: Deployment) -> dict[str, Any]:
    arn = only(resources(deployment, COMPUTE, "AWS::ElasticLoadBalancingV2::LoadBalancer"))
    found: dict[str, Any] = only(
        deployment.client("elbv2").describe_load_balancers(LoadBalancerArns=[arn.physical_id])[
            "LoadBalancers"
        ]
    )
    return found


@pytest.fixture(scope="module")
def launch_template_data(deployment: Deployment, group: dict[str, Any]) -> dict[str, Any]:
    template = group["LaunchTemplate"]
    versions = deployment.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=template["LaunchTemplateId"], Versions=[template["Version"]]
    )["LaunchTemplateVersions"]
    data: dict[str, Any] = only(versions)["LaunchTemplateData"]
    return data


@pytest.fixture(scope="module")
def key_arn(deployment: Deployment) -> str:
    key = only(resources(deployment, SECURITY, "AWS::KMS::Key"))
    metadata = deployment.client("kms").describe_key(KeyId=key.physical_id)["KeyMetadata"]
    return str(metadata["Arn"])


def security_group(deployment: Deployment, group_id: str) -> dict[str, Any]:
    found: dict[str, Any] = only(
        deployment.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    )
    return found


def ingress(group: dict[str, Any]) -> set[tuple[str, int, int, str]]:
    """(protocol, from port, to port, source) of every ingress rule; sources are CIDRs or groups."""
    rules = set()
    for permission in group["IpPermissions"]:
        key = (permission["IpProtocol"], permission.get("FromPort"), permission.get("ToPort"))
        sources = [r["CidrIp"] for r in permission.get("IpRanges", [])]
        sources += [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
        sources += [p["GroupId"] for p in permission.get("UserIdGroupPairs", [])]
        sources += [p["PrefixListId"] for p in permission.get("PrefixListIds", [])]
        rules |= {(*key, source) for source in sources}
    return rules


def test_every_stack_of_the_environment_was_created(deployment: Deployment) -> None:
    cloudformation = deployment.client("cloudformation")
    statuses = {
        name: cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        for name in deployment.assembly.stack_names
    }
    assert statuses == dict.fromkeys(deployment.assembly.stack_names, "CREATE_COMPLETE")


def test_each_tier_has_one_subnet_in_every_availability_zone(
    deployment: Deployment, subnets: list[dict[str, Any]]
) -> None:
    zones_by_tier: dict[str, list[str]] = defaultdict(list)
    for subnet in subnets:
        zones_by_tier[tags(subnet).get(TIER_TAG, "untagged")].append(subnet["AvailabilityZone"])
    expected = sorted(deployment.environment.availability_zones)
    assert {tier: sorted(zones) for tier, zones in zones_by_tier.items()} == {
        PUBLIC: expected,
        PRIVATE: expected,
        ISOLATED: expected,
    }


# The emulator's `local` environment runs without NAT gateways (cdk.json): NAT routing per AZ is
# asserted on the templates of dev, staging and prod (tests/test_network.py).
def test_without_nat_the_app_tier_has_no_route_out_of_the_vpc(
    deployment: Deployment, vpc_id: str, subnets: list[dict[str, Any]]
) -> None:
    assert deployment.environment.network.aws_only_egress, "the emulator deploys the AWS-only mode"
    ec2 = deployment.client("ec2")
    app_tier = [s["SubnetId"] for s in subnets if tags(s).get(TIER_TAG) == PRIVATE]
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": app_tier}]
    )["RouteTables"]
    associated = {a["SubnetId"] for t in tables for a in t["Associations"] if "SubnetId" in a}
    routes = [route for table in tables for route in table["Routes"]]
    nat_gateways = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])

    assert len(app_tier) == len(deployment.environment.availability_zones)
    assert associated == set(app_tier)
    assert [r for r in routes if r.get("DestinationCidrBlock") in ANYWHERE] == []
    assert [r for r in routes if r.get("NatGatewayId")] == []
    assert nat_gateways["NatGateways"] == []


def test_interface_endpoints_include_elastic_load_balancing_in_the_app_tier(
    deployment: Deployment, vpc_id: str, subnets: list[dict[str, Any]]
) -> None:
    app_tier = {s["SubnetId"] for s in subnets if tags(s).get(TIER_TAG) == PRIVATE}
    endpoints = deployment.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["VpcEndpoints"]
    interface = {
        e["ServiceName"].rsplit(".", 1)[-1]: e
        for e in endpoints
        if e["VpcEndpointType"] == "Interface"
    }

    # The readiness check (DescribeTargetHealth) and cfn-signal need no NAT.
    assert {"elasticloadbalancing", "cloudformation"} <= interface.keys()
    assert set(interface["elasticloadbalancing"]["SubnetIds"]) == app_tier


def test_isolated_subnets_have_no_route_out_of_the_vpc(
    deployment: Deployment, subnets: list[dict[str, Any]]
) -> None:
    isolated = [s["SubnetId"] for s in subnets if tags(s).get(TIER_TAG) == ISOLATED]
    tables = deployment.client("ec2").describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": isolated}]
    )["RouteTables"]
    associated = {a["SubnetId"] for t in tables for a in t["Associations"] if "SubnetId" in a}
    routes_out = [
        route
        for table in tables
        for route in table["Routes"]
        if route.get("NatGatewayId") or str(route.get("GatewayId", "")).startswith("igw-")
    ]
    assert associated == set(isolated)
    assert routes_out == []


def test_web_tier_accepts_only_http_and_https_from_anywhere(
    deployment: Deployment, load_balancer: dict[str, Any]
) -> None:
    web = security_group(deployment, only(load_balancer["SecurityGroups"]))
    ports = [80, 443] if deployment.environment.edge.serves_https else [80]
    assert ingress(web) == {("tcp", port, port, "0.0.0.0/0") for port in ports}


def test_app_tier_accepts_only_the_app_port_from_the_web_tier(
    deployment: Deployment, load_balancer: dict[str, Any], launch_template_data: dict[str, Any]
) -> None:
    web_id = only(load_balancer["SecurityGroups"])
    app = security_group(deployment, only(launch_template_data["SecurityGroupIds"]))
    port = deployment.environment.fleet.app_port
    assert ingress(app) == {("tcp", port, port, web_id)}


def test_db_tier_accepts_only_the_db_port_from_the_app_tier(
    deployment: Deployment, vpc_id: str, launch_template_data: dict[str, Any]
) -> None:
    app_id = only(launch_template_data["SecurityGroupIds"])
    db_name = deployment.config.naming(deployment.environment).name(SECURITY, "security-groups-db")
    db = only(
        deployment.client("ec2").describe_security_groups(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "tag:Name", "Values": [db_name]},
            ]
        )["SecurityGroups"]
    )
    port = deployment.environment.security.db_port
    assert ingress(db) == {("tcp", port, port, app_id)}


def test_only_the_web_tier_accepts_traffic_from_anywhere(
    deployment: Deployment, vpc_id: str, load_balancer: dict[str, Any]
) -> None:
    groups = deployment.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["SecurityGroups"]
    open_to_anywhere = {
        g["GroupId"] for g in groups if any(rule[3] in ANYWHERE for rule in ingress(g))
    }
    assert open_to_anywhere == set(load_balancer["SecurityGroups"])


def test_launch_template_requires_imdsv2_tokens_within_one_hop(
    launch_template_data: dict[str, Any],
) -> None:
    assert launch_template_data["MetadataOptions"] == {
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 1,
    }


def test_every_volume_of_the_launch_template_is_encrypted_with_the_environment_key(
    launch_template_data: dict[str, Any], key_arn: str
) -> None:
    volumes = [m["Ebs"] for m in launch_template_data["BlockDeviceMappings"]]
    assert volumes
    assert [(v.get("Encrypted"), v.get("KmsKeyId")) for v in volumes] == [(True, key_arn)] * len(
        volumes
    )


def test_environment_key_rotates(deployment: Deployment) -> None:
    key = only(resources(deployment, SECURITY, "AWS::KMS::Key"))
    status = deployment.client("kms").get_key_rotation_status(KeyId=key.physical_id)
    assert status["KeyRotationEnabled"] is True


def test_fleet_capacity_matches_the_configuration(
    deployment: Deployment, group: dict[str, Any]
) -> None:
    environment = deployment.environment
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (
        environment.fleet.min_capacity,
        # No DesiredCapacity in the template: the group starts at min.
        environment.fleet.min_capacity,
        environment.fleet.max_capacity,
    )


def test_fleet_runs_in_the_private_subnet_of_every_availability_zone(
    deployment: Deployment, group: dict[str, Any], subnets: list[dict[str, Any]]
) -> None:
    private = {s["SubnetId"] for s in subnets if tags(s).get(TIER_TAG) == PRIVATE}
    assert set(group["VPCZoneIdentifier"].split(",")) == private
    assert sorted(group["AvailabilityZones"]) == sorted(deployment.environment.availability_zones)


def test_fleet_replaces_instances_that_fail_the_load_balancer_health_check(
    group: dict[str, Any],
) -> None:
    assert group["HealthCheckType"] == "ELB"
    assert group["HealthCheckGracePeriod"] > 0


def test_fleet_registers_with_the_target_group_the_listener_forwards_to(
    deployment: Deployment, group: dict[str, Any], load_balancer: dict[str, Any]
) -> None:
    listeners = deployment.client("elbv2").describe_listeners(
        LoadBalancerArn=load_balancer["LoadBalancerArn"]
    )["Listeners"]
    forwarded = {
        action["TargetGroupArn"]
        for listener in listeners
        for action in listener["DefaultActions"]
        if action["Type"] == "forward"
    }
    assert group["TargetGroupARNs"] == [only(sorted(forwarded))]


def test_target_group_checks_the_health_path_on_the_app_port(
    deployment: Deployment, group: dict[str, Any]
) -> None:
    target_group = only(
        deployment.client("elbv2").describe_target_groups(TargetGroupArns=group["TargetGroupARNs"])[
            "TargetGroups"
        ]
    )
    assert (target_group["Port"], target_group["HealthCheckPath"]) == (
        deployment.environment.fleet.app_port,
        deployment.environment.fleet.health_check_path,
    )


def test_listeners_forward_to_the_fleet_or_redirect_to_https(
    deployment: Deployment, load_balancer: dict[str, Any], group: dict[str, Any]
) -> None:
    listeners = deployment.client("elbv2").describe_listeners(
        LoadBalancerArn=load_balancer["LoadBalancerArn"]
    )["Listeners"]
    target_group = only(group["TargetGroupARNs"])
    actions = {
        (listener["Protocol"], listener["Port"]): [
            (a["Type"], a.get("TargetGroupArn") or a.get("RedirectConfig", {}).get("Protocol"))
            for a in listener["DefaultActions"]
        ]
        for listener in listeners
    }
    if deployment.environment.edge.serves_https:
        expected = {
            ("HTTPS", 443): [("forward", target_group)],
            ("HTTP", 80): [("redirect", "HTTPS")],
        }
    else:
        expected = {("HTTP", 80): [("forward", target_group)]}
    assert actions == expected


def test_dashboard_shows_every_alarm_of_the_environment_as_cloudwatch_knows_it(
    deployment: Deployment,
) -> None:
    kinds = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
    names = [r.physical_id for kind in kinds for r in resources(deployment, COMPUTE, kind)]
    cloudwatch = deployment.client("cloudwatch")
    described = cloudwatch.describe_alarms(
        AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    arns = [a["AlarmArn"] for kind in ("MetricAlarms", "CompositeAlarms") for a in described[kind]]
    dashboard = only(resources(deployment, COMPUTE, "AWS::CloudWatch::Dashboard")).physical_id
    body = json.loads(cloudwatch.get_dashboard(DashboardName=dashboard)["DashboardBody"])
    (status,) = (w for w in body["widgets"] if w["type"] == "alarm")

    assert len(arns) == len(names) > 0
    assert sorted(status["properties"]["alarms"]) == sorted(arns)


def test_every_import_resolves_to_the_producers_actual_resource(deployment: Deployment) -> None:
    """Each Fn::ImportValue in a deployed template names an export whose value is the ID (or the
    attribute) of the resource the producing stack actually created."""
    cloudformation = deployment.client("cloudformation")
    exports = {e["Name"]: e for e in cloudformation.list_exports()["Exports"]}
    templates = {
        name: cloudformation.get_template(StackName=name)["TemplateBody"]
        for name in deployment.assembly.stack_names
    }
    imported = {
        name: set(re.findall(r'"Fn::ImportValue": "([^"]+)"', json.dumps(template)))
        for name, template in templates.items()
    }
    assert any(imported.values()), "no stack imports anything: nothing to check"
    problems = []
    for consumer, names in imported.items():
        for export_name in sorted(names):
            if export_name not in exports:
                problems.append(f"{consumer} imports {export_name}, which nobody exports")
                continue
            producer = _stack_name_of(cloudformation, exports[export_name]["ExportingStackId"])
            actual = _exported_resource_value(
                deployment, producer, templates[producer], export_name
            )
            if exports[export_name]["Value"] != actual:
                problems.append(
                    f"{export_name} = {exports[export_name]['Value']!r}, but {producer}'s "
                    f"resource is {actual!r}"
                )
    assert problems == []


def test_compute_resources_use_the_network_and_security_resources(
    deployment: Deployment,
    load_balancer: dict[str, Any],
    launch_template_data: dict[str, Any],
    subnets: list[dict[str, Any]],
    vpc_id: str,
    key_arn: str,
) -> None:
    security_groups = {
        r.physical_id for r in resources(deployment, SECURITY, "AWS::EC2::SecurityGroup")
    }
    public = {s["SubnetId"] for s in subnets if tags(s).get(TIER_TAG) == PUBLIC}
    assert load_balancer["VpcId"] == vpc_id
    assert {z["SubnetId"] for z in load_balancer["AvailabilityZones"]} == public
    assert set(load_balancer["SecurityGroups"]) <= security_groups
    assert set(launch_template_data["SecurityGroupIds"]) <= security_groups
    volume_keys = {m["Ebs"]["KmsKeyId"] for m in launch_template_data["BlockDeviceMappings"]}
    assert volume_keys == {key_arn}


def test_mandatory_tags_on_every_resource_the_emulator_tags(deployment: Deployment) -> None:
    expected = {
        "Environment": deployment.environment.name,
        "Project": deployment.config.project,
        "Owner": deployment.config.owner,
        "CostCenter": deployment.config.cost_center,
        "ManagedBy": "cdk",
    }
    checked, problems = 0, []
    for name in deployment.assembly.stack_names:
        for resource in stack_resources(deployment.emulator, name).values():
            if resource.resource_type not in TAGGED_BY_THE_EMULATOR:
                continue
            found = _read_tags(deployment, resource)
            checked += 1
            wrong = {k: found.get(k) for k, v in expected.items() if found.get(k) != v}
            if wrong:
                problems.append(f"{resource.resource_type} {resource.logical_id}: {wrong}")
    assert checked >= len(TAGGED_BY_THE_EMULATOR)
    assert problems == []


def test_launch_template_name_tag_follows_the_naming_convention(
    deployment: Deployment, group: dict[str, Any]
) -> None:
    template = only(
        deployment.client("ec2").describe_launch_templates(
            LaunchTemplateIds=[group["LaunchTemplate"]["LaunchTemplateId"]]
        )["LaunchTemplates"]
    )
    prefix = deployment.config.naming(deployment.environment).name(COMPUTE)
    assert tags(template)["Name"].startswith(f"{prefix}-")


def test_the_emulator_skips_only_the_resource_types_known_to_be_unsupported(
    deployment: Deployment,
) -> None:
    skipped = {
        resource_type
        for stack in deployment.assembly.stacks
        for resource_type in skipped_resources(deployment.emulator, stack).values()
    }
    assert skipped <= SKIPPED_BY_THE_EMULATOR, (
        f"the emulator also skipped {sorted(skipped - SKIPPED_BY_THE_EMULATOR)}: nothing about "
        "them is tested here; add them to SKIPPED_BY_THE_EMULATOR and the README if that is fine"
    )


def _stack_name_of(cloudformation: Any, stack_id: str) -> str:
    return str(cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackName"])


def _exported_resource_value(
    deployment: Deployment, producer: str, template: dict[str, Any], export_name: str
) -> str:
    """The value a producer's export must have: the ID or attribute of the resource it names."""
    output = only(
        [o for o in template["Outputs"].values() if o.get("Export", {}).get("Name") == export_name]
    )
    resources_by_id = stack_resources(deployment.emulator, producer)
    value = output["Value"]
    if "Ref" in value:
        return resources_by_id[value["Ref"]].physical_id
    logical_id, attribute = value["Fn::GetAtt"]
    resource = resources_by_id[logical_id]
    if (resource.resource_type, attribute) == ("AWS::EC2::SecurityGroup", "GroupId"):
        return resource.physical_id
    if (resource.resource_type, attribute) == ("AWS::KMS::Key", "Arn"):
        key = deployment.client("kms").describe_key(KeyId=resource.physical_id)
        return str(key["KeyMetadata"]["Arn"])
    raise AssertionError(
        f"{export_name} exports {resource.resource_type}.{attribute}: teach this test how to read "
        "that attribute back through the API"
    )


def _read_tags(deployment: Deployment, resource: DeployedResource) -> dict[str, str]:
    kind, physical_id = resource.resource_type, resource.physical_id
    if kind.startswith("AWS::EC2::"):
        found = deployment.client("ec2").describe_tags(
            Filters=[{"Name": "resource-id", "Values": [physical_id]}]
        )["Tags"]
        return {t["Key"]: t["Value"] for t in found}
    if kind == "AWS::AutoScaling::AutoScalingGroup":
        groups = deployment.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[physical_id]
        )["AutoScalingGroups"]
        return tags(only(groups))
    if kind == "AWS::IAM::Role":
        return tags(deployment.client("iam").list_role_tags(RoleName=physical_id))
    if kind == "AWS::KMS::Key":
        found = deployment.client("kms").list_resource_tags(KeyId=physical_id)["Tags"]
        return {t["TagKey"]: t["TagValue"] for t in found}
    if kind == "AWS::Logs::LogGroup":
        found = deployment.client("logs").list_tags_log_group(logGroupName=physical_id)["tags"]
        return dict(found)
    if kind == "AWS::S3::Bucket":
        found = deployment.client("s3").get_bucket_tagging(Bucket=physical_id)["TagSet"]
        return {t["Key"]: t["Value"] for t in found}
    raise AssertionError(f"no tag reader for {kind}")
