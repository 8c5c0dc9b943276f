"""Each construct with a branch, built alone in a bare stack from hand-written props.

No cdk.json and no validation plugins: what a construct does with its props, not what the app's
configuration happens to select.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from constructs import IConstruct

from constructs_lib.compliance import CFN_GUARD
from constructs_lib.edge import (
    WebAcl,
    WebDomain,
    WebDomainProps,
    WebLoadBalancer,
    WebLoadBalancerProps,
)
from constructs_lib.fleet import RELEASE_BATCH, Fleet, FleetProps, Release, plan_rollout
from constructs_lib.network import INTERFACE_ENDPOINTS, Network, NetworkProps
from constructs_lib.security import TierSecurityGroups, WorkloadKey
from tests.template_utils import Resource, only, resources

AZS = ("us-east-1a", "us-east-1b")
CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001"
)
NETWORK = NetworkProps(
    vpc_cidr="10.0.0.0/22",
    availability_zones=AZS,
    nat_gateways=len(AZS),
    interface_endpoints=True,
    restrict_default_security_group=True,
    log_retention_days=7,
)
LOAD_BALANCER = WebLoadBalancerProps(
    app_port=8080,
    health_check_path="/health",
    load_balancer_name="test-webapp-compute-alb",
    waf_log_group_name="aws-waf-logs-test-webapp-compute-waf",
    waf_redacted_headers=(),
    log_retention_days=7,
    is_production=False,
)
DOMAIN = WebDomainProps(
    domain_name="app.example.com",
    hosted_zone_id="Z000000000000EXAMPLE1",
    hosted_zone_name="example.com",
)
FLEET = FleetProps(
    instance_type="t3.small",
    ami_id="ami-0123456789abcdef0",
    region="us-east-1",
    availability_zones=AZS,
    min_capacity=2,
    max_capacity=4,
    app_port=8080,
    health_check_path="/health",
    instance_name="test-webapp-compute-instance",
    log_group_name="/test/webapp/compute/instances",
    agent_metric_namespace="webapp/test/instances",
    rollout=plan_rollout(
        min_capacity=2,
        max_capacity=4,
        min_healthy_percentage=100,
        max_healthy_percentage=None,
        checkpoints=(50, 100),
        checkpoint_delay_minutes=7,
        bake_minutes=12,
        batch=RELEASE_BATCH,
    ),
)
# AWS Control Tower's rule that a log group keeps its logs for at least a year.
RETENTION_RULE = f"{CFN_GUARD}::cloudwatch_log_group_retention_period_check"
RELEASE = Release(
    artifact="releases/webapp-1.2.3.tar.gz",
    version_id="Lb2nVxJ2VwL0nUpSpQ5VEXsT.ZdUYdhg",
    sha256="0123456789abcdef" * 4,
)


def bare_stack() -> cdk.Stack:
    # Without aws-cdk-lib's built-in template validation: its engine costs about 6 s of CPU to
    # start, more than this whole file, and the session synth runs it over every template of the
    # app these constructs build.
    app = cdk.App(builtin_cloud_formation_validation=False)
    return cdk.Stack(app, "Alone", env=cdk.Environment(account="123456789012", region="us-east-1"))


@dataclass(frozen=True)
class Built:
    template: Template
    annotations: Annotations


def built(stack: cdk.Stack) -> Built:
    return Built(Template.from_stack(stack), Annotations.from_stack(stack))


def network(props: NetworkProps) -> Template:
    stack = bare_stack()
    Network(stack, "Network", props=props)
    return Template.from_stack(stack)


def load_balancer(stack: cdk.Stack, vpc: ec2.IVpc, props: WebLoadBalancerProps) -> WebLoadBalancer:
    return WebLoadBalancer(
        stack,
        "Web",
        vpc=vpc,
        security_group=ec2.SecurityGroup(stack, "WebSecurityGroup", vpc=vpc),
        access_log_bucket=s3.Bucket(stack, "AccessLogs"),
        key=kms.Key(stack, "Key"),
        props=props,
    )


def load_balancer_alone(props: WebLoadBalancerProps) -> Built:
    stack = bare_stack()
    load_balancer(stack, ec2.Vpc(stack, "Vpc", max_azs=2), props)
    return built(stack)


def fleet(props: FleetProps, *, gate: bool = False) -> Template:
    stack = bare_stack()
    vpc = Network(stack, "Network", props=NETWORK).vpc
    # Scaling on requests per target needs a target group behind a load balancer.
    web = load_balancer(stack, vpc, LOAD_BALANCER)
    built_fleet = Fleet(
        stack,
        "Fleet",
        vpc=vpc,
        security_group=ec2.SecurityGroup(stack, "AppSecurityGroup", vpc=vpc),
        role=iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")),
        key=kms.Key(stack, "FleetKey"),
        target_group=web.target_group,
        artifact_bucket=s3.Bucket(stack, "Artifacts"),
        notifications=sns.Topic(stack, "Notifications"),
        props=props,
    )
    if gate:
        metric = cloudwatch.Metric(namespace="Test", metric_name="Errors", statistic="Sum")
        built_fleet.gate_releases_on(
            [
                metric.create_alarm(stack, name, threshold=1, evaluation_periods=1)
                for name in ("First", "Second")
            ]
        )
    return Template.from_stack(stack)


def security_groups(*, aws_only_egress: bool, serves_https: bool) -> Template:
    stack = bare_stack()
    TierSecurityGroups(
        stack,
        "SecurityGroups",
        vpc=ec2.Vpc(stack, "Vpc", max_azs=2),
        serves_https=serves_https,
        app_port=8080,
        db_port=5432,
        vpc_cidr="10.0.0.0/22",
        s3_prefix_list=(
            ec2.PrefixList.from_prefix_list_id(stack, "S3", "pl-63a5400a")
            if aws_only_egress
            else None
        ),
    )
    return Template.from_stack(stack)


def workload_key(*, is_production: bool, ensure_service_linked_role: bool) -> Template:
    stack = bare_stack()
    WorkloadKey(
        stack,
        "Encryption",
        alias="alias/test-webapp-security-key",
        description="EBS, logs and notifications of test-webapp-security",
        log_group_name_patterns=["/test/webapp/*", "aws-waf-logs-test-webapp-*"],
        is_production=is_production,
        ensure_service_linked_role=ensure_service_linked_role,
        log_retention_days=7,
    )
    return Template.from_stack(stack)


def web_domain(*, issue_certificate: bool, is_production: bool) -> Template:
    stack = bare_stack()
    WebDomain(
        stack,
        "Domain",
        props=DOMAIN,
        issue_certificate=issue_certificate,
        is_production=is_production,
    )
    return Template.from_stack(stack)


@dataclass(frozen=True)
class BuiltAcl:
    template: Template
    web_acl: WebAcl


def web_acl(*, is_production: bool) -> BuiltAcl:
    stack = bare_stack()
    acl = WebAcl(
        stack,
        "WebAcl",
        load_balancer=elbv2.ApplicationLoadBalancer.from_application_load_balancer_attributes(
            stack,
            "LoadBalancer",
            load_balancer_arn=(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                "loadbalancer/app/test-webapp-compute-alb/0123456789abcdef"
            ),
            security_group_id="sg-0123456789abcdef0",
        ),
        key=kms.Key(stack, "Key"),
        log_group_name=LOAD_BALANCER.waf_log_group_name,
        redacted_headers=(),
        # Under a year, where production and the other environments are checked differently.
        log_retention_days=LOAD_BALANCER.log_retention_days,
        is_production=is_production,
    )
    return BuiltAcl(Template.from_stack(stack), acl)


def acknowledged_rules(scope: IConstruct) -> set[str]:
    """The rules acknowledged on `scope` or anything in it; a plugin does not report those."""
    return {
        rule
        for construct in scope.node.find_all()
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }


def listeners(template: Template) -> dict[int, Resource]:
    return {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    }


def default_routes(template: Template) -> dict[str, Resource]:
    return {
        logical_id: route["Properties"]
        for logical_id, route in resources(template, "AWS::EC2::Route").items()
        if route["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
    }


def boot_script(template: Template) -> str:
    _, launch_template = only(template, "AWS::EC2::LaunchTemplate")
    parts = launch_template["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    if isinstance(parts, str):
        return base64.b64decode(parts).decode()
    return "".join(p if isinstance(p, str) else "<token>" for p in parts["Fn::Join"][1])


@pytest.fixture(scope="module")
def per_az_nat() -> Template:
    return network(NETWORK)


@pytest.fixture(scope="module")
def shared_nat() -> Template:
    return network(replace(NETWORK, nat_gateways=1))


@pytest.fixture(scope="module")
def no_nat() -> Template:
    return network(replace(NETWORK, nat_gateways=0))


@pytest.fixture(scope="module")
def no_endpoints() -> Template:
    return network(
        replace(NETWORK, interface_endpoints=False, restrict_default_security_group=False)
    )


@pytest.fixture(scope="module")
def with_certificate() -> Built:
    return load_balancer_alone(replace(LOAD_BALANCER, certificate_arn=CERTIFICATE_ARN))


@pytest.fixture(scope="module")
def with_domain() -> Built:
    return load_balancer_alone(replace(LOAD_BALANCER, domain=DOMAIN))


@pytest.fixture(scope="module")
def with_domain_and_certificate() -> Built:
    return load_balancer_alone(
        replace(LOAD_BALANCER, domain=DOMAIN, certificate_arn=CERTIFICATE_ARN)
    )


@pytest.fixture(scope="module")
def plain_http() -> Built:
    return load_balancer_alone(LOAD_BALANCER)


@pytest.fixture(scope="module")
def production_web_acl() -> BuiltAcl:
    return web_acl(is_production=True)


@pytest.fixture(scope="module")
def non_production_web_acl() -> BuiltAcl:
    return web_acl(is_production=False)


def test_network_with_interface_endpoints_serves_each_service_the_instances_need(
    per_az_nat: Template,
) -> None:
    interface = [
        endpoint
        for endpoint in resources(per_az_nat, "AWS::EC2::VPCEndpoint").values()
        if endpoint["Properties"].get("VpcEndpointType") == "Interface"
    ]

    assert len(interface) == len(INTERFACE_ENDPOINTS)
    assert all(endpoint["Properties"]["PrivateDnsEnabled"] for endpoint in interface)


def test_network_without_interface_endpoints_keeps_only_the_s3_gateway_endpoint(
    no_endpoints: Template,
) -> None:
    (endpoint,) = resources(no_endpoints, "AWS::EC2::VPCEndpoint").values()

    assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
    no_endpoints.resource_count_is("AWS::EC2::SecurityGroup", 0)


def test_network_with_a_nat_per_az_routes_each_app_subnet_through_a_nat_of_its_own(
    per_az_nat: Template,
) -> None:
    nat_routes = [r for r in default_routes(per_az_nat).values() if "NatGatewayId" in r]

    per_az_nat.resource_count_is("AWS::EC2::NatGateway", len(AZS))
    assert len({str(r["NatGatewayId"]) for r in nat_routes}) == len(AZS)


def test_network_with_one_shared_nat_routes_every_app_subnet_through_it(
    shared_nat: Template,
) -> None:
    nat_id, _ = only(shared_nat, "AWS::EC2::NatGateway")
    nat_routes = [r for r in default_routes(shared_nat).values() if "NatGatewayId" in r]

    assert [r["NatGatewayId"] for r in nat_routes] == [{"Ref": nat_id}] * len(AZS)


def test_network_without_nat_gateways_leaves_the_app_tier_no_route_out_of_the_vpc(
    no_nat: Template,
) -> None:
    no_nat.resource_count_is("AWS::EC2::NatGateway", 0)
    # Only the public subnets (load balancer) route to the internet gateway.
    assert all("PublicSubnet" in logical_id for logical_id in default_routes(no_nat))
    assert len(default_routes(no_nat)) == len(AZS)


def test_network_strips_the_default_security_group_unless_told_not_to(
    per_az_nat: Template, no_endpoints: Template
) -> None:
    per_az_nat.resource_count_is("Custom::VpcRestrictDefaultSG", 1)
    no_endpoints.resource_count_is("Custom::VpcRestrictDefaultSG", 0)


def test_load_balancer_with_a_certificate_serves_https_with_a_tls13_policy(
    with_certificate: Built,
) -> None:
    https = listeners(with_certificate.template)[443]

    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")


def test_load_balancer_with_a_certificate_answers_http_only_with_a_permanent_redirect(
    with_certificate: Built,
) -> None:
    (action,) = listeners(with_certificate.template)[80]["DefaultActions"]

    assert action["Type"] == "redirect"
    assert action["RedirectConfig"] == {
        "Protocol": "HTTPS",
        "Port": "443",
        "StatusCode": "HTTP_301",
    }


def test_load_balancer_with_a_domain_requests_a_dns_validated_certificate_for_it(
    with_domain: Built,
) -> None:
    with_domain.template.has_resource_properties(
        "AWS::CertificateManager::Certificate",
        {
            "DomainName": DOMAIN.domain_name,
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [
                {"DomainName": DOMAIN.domain_name, "HostedZoneId": DOMAIN.hosted_zone_id}
            ],
        },
    )


def test_load_balancer_with_a_domain_redirects_http_to_that_name(with_domain: Built) -> None:
    (action,) = listeners(with_domain.template)[80]["DefaultActions"]

    assert action["RedirectConfig"]["Host"] == DOMAIN.domain_name


def test_load_balancer_with_a_domain_gives_it_an_alias_record(with_domain: Built) -> None:
    with_domain.template.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": f"{DOMAIN.domain_name}.",
            "Type": "A",
            "HostedZoneId": DOMAIN.hosted_zone_id,
            "AliasTarget": Match.any_value(),
        },
    )


def test_load_balancer_with_a_domain_and_a_brought_certificate_requests_no_certificate(
    with_domain_and_certificate: Built,
) -> None:
    with_domain_and_certificate.template.resource_count_is(
        "AWS::CertificateManager::Certificate", 0
    )


def test_load_balancer_with_a_domain_and_a_brought_certificate_serves_https_with_that_one(
    with_domain_and_certificate: Built,
) -> None:
    with_domain_and_certificate.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": CERTIFICATE_ARN}],
        },
    )


def test_load_balancer_with_a_domain_and_a_brought_certificate_gives_the_domain_an_alias_record(
    with_domain_and_certificate: Built,
) -> None:
    template = with_domain_and_certificate.template
    load_balancer_id, _ = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")

    template.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": f"{DOMAIN.domain_name}.",
            "Type": "A",
            "HostedZoneId": DOMAIN.hosted_zone_id,
            "AliasTarget": {
                "HostedZoneId": {"Fn::GetAtt": [load_balancer_id, "CanonicalHostedZoneID"]}
            },
        },
    )


def test_load_balancer_with_a_domain_and_a_brought_certificate_redirects_http_to_the_domain(
    with_domain_and_certificate: Built,
) -> None:
    with_domain_and_certificate.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "DefaultActions": [
                {
                    "Type": "redirect",
                    "RedirectConfig": {
                        "Protocol": "HTTPS",
                        "Host": DOMAIN.domain_name,
                        "Port": "443",
                        "StatusCode": "HTTP_301",
                    },
                }
            ],
        },
    )


def test_load_balancer_without_a_certificate_forwards_plain_http_to_the_fleet(
    plain_http: Built,
) -> None:
    found = listeners(plain_http.template)
    target_group_id, _ = only(plain_http.template, "AWS::ElasticLoadBalancingV2::TargetGroup")

    assert sorted(found) == [80]
    assert found[80]["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": {"Ref": target_group_id}}
    ]


def test_plain_http_outside_production_is_a_choice_synth_does_not_warn_about(
    plain_http: Built,
) -> None:
    plain_http.annotations.has_no_warning("*", Match.any_value())


def test_fleet_alone_rolls_a_release_out_as_planned_and_gated_on_the_alarms_given() -> None:
    template = fleet(FLEET, gate=True)
    (asg,) = template.find_resources("AWS::AutoScaling::AutoScalingGroup").values()
    alarms = template.find_resources("AWS::CloudWatch::Alarm")

    assert asg["UpdatePolicy"]["AutoScalingInstanceRefresh"] == {
        "Strategy": "Rolling",
        "Preferences": {
            "MinHealthyPercentage": 100,
            # One whole instance at minCapacity 2: 50% above the desired capacity.
            "MaxHealthyPercentage": 150,
            "InstanceWarmup": 300,
            "SkipMatching": True,
            "CheckpointPercentages": [50, 100],
            "CheckpointDelay": 7 * 60,
            "BakeTime": 12 * 60,
            "ScaleInProtectedInstances": "Refresh",
            "StandbyInstances": "Ignore",
            "AlarmSpecification": {"Alarms": [{"Ref": alarm} for alarm in alarms]},
        },
    }
    assert set(alarms) <= set(asg["DependsOn"])
    assert asg["CreationPolicy"] == {"ResourceSignal": {"Count": 2, "Timeout": "PT15M"}}


def test_fleet_alone_breaking_glass_lets_a_release_through_whatever_the_alarms_say() -> None:
    template = fleet(replace(FLEET, rollout=replace(FLEET.rollout, alarm_gate=False)), gate=True)
    (asg,) = template.find_resources("AWS::AutoScaling::AutoScalingGroup").values()
    preferences = asg["UpdatePolicy"]["AutoScalingInstanceRefresh"]["Preferences"]

    assert "AlarmSpecification" not in preferences
    assert preferences["BakeTime"] == 12 * 60


def test_fleet_with_a_release_hands_its_artifact_version_and_digest_to_the_boot_script() -> None:
    script = boot_script(fleet(replace(FLEET, release=RELEASE)))

    assert f"RELEASE_ARTIFACT={RELEASE.artifact}\n" in script
    assert f"RELEASE_VERSION_ID={RELEASE.version_id}\n" in script
    assert f"RELEASE_SHA256={RELEASE.sha256}\n" in script


def test_fleet_without_a_release_leaves_the_boot_script_to_run_the_bundled_service() -> None:
    script = boot_script(fleet(FLEET))

    # Empty: the boot script then installs BUNDLED_SERVICE (constructs_lib/fleet/assets/boot.sh).
    assert "RELEASE_ARTIFACT=''\n" in script
    assert "RELEASE_VERSION_ID=''\n" in script
    assert "RELEASE_SHA256=''\n" in script
    assert "\nBUNDLED_SERVICE=" in script


def app_egress_to_addresses(template: Template) -> list[Resource]:
    """The app tier's egress rules to addresses, inline or not; the rules to other tiers aside."""
    ((app_id, app),) = [
        (logical_id, group["Properties"])
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items()
        if group["Properties"]["GroupDescription"].startswith("App tier")
    ]
    separate = [
        rule["Properties"]
        for rule in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [app_id, "GroupId"]}
    ]
    return [
        {key: rule[key] for key in ("CidrIp", "DestinationPrefixListId", "FromPort") if key in rule}
        for rule in [*app["SecurityGroupEgress"], *separate]
        if "DestinationSecurityGroupId" not in rule
    ]


def test_app_tier_behind_nat_gateways_may_reach_https_anywhere() -> None:
    template = security_groups(aws_only_egress=False, serves_https=True)

    assert app_egress_to_addresses(template) == [{"CidrIp": "0.0.0.0/0", "FromPort": 443}]


def test_app_tier_without_nat_may_reach_only_the_vpc_and_s3_over_https() -> None:
    template = security_groups(aws_only_egress=True, serves_https=True)

    assert app_egress_to_addresses(template) == [
        {"CidrIp": "10.0.0.0/22", "FromPort": 443},
        {"DestinationPrefixListId": "pl-63a5400a", "FromPort": 443},
    ]


def test_web_tier_serving_https_admits_only_https_and_its_http_redirect_from_the_internet() -> None:
    template = security_groups(aws_only_egress=False, serves_https=True)

    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": Match.string_like_regexp("^Web tier"),
            "SecurityGroupIngress": [
                Match.object_like(
                    {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
                ),
                Match.object_like(
                    {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80}
                ),
            ],
        },
    )


def test_web_tier_without_https_admits_only_http_from_the_internet() -> None:
    template = security_groups(aws_only_egress=False, serves_https=False)

    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": Match.string_like_regexp("^Web tier"),
            "SecurityGroupIngress": [
                Match.object_like(
                    {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80}
                )
            ],
        },
    )


def test_key_waits_for_the_auto_scaling_service_linked_role_it_ensures() -> None:
    template = workload_key(is_production=False, ensure_service_linked_role=True)
    guard_id, _ = only(template, "Custom::AutoScalingServiceLinkedRole")
    _, key = only(template, "AWS::KMS::Key")

    assert guard_id in key["DependsOn"]


def test_key_without_the_role_guard_creates_no_service_linked_role() -> None:
    template = workload_key(is_production=False, ensure_service_linked_role=False)

    template.resource_count_is("Custom::AutoScalingServiceLinkedRole", 0)


def test_production_key_is_retained_and_waits_thirty_days_before_deletion() -> None:
    template = workload_key(is_production=True, ensure_service_linked_role=False)
    _, key = only(template, "AWS::KMS::Key")

    assert key["DeletionPolicy"] == "RetainExceptOnCreate"
    assert key["Properties"]["PendingWindowInDays"] == 30


def test_production_certificate_is_kept_on_delete_and_replacement_but_not_a_failed_create() -> None:
    template = web_domain(issue_certificate=True, is_production=True)

    template.has_resource(
        "AWS::CertificateManager::Certificate",
        {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"},
    )


def test_non_production_domain_certificate_is_deleted_with_its_stack() -> None:
    template = web_domain(issue_certificate=True, is_production=False)

    template.has_resource(
        "AWS::CertificateManager::Certificate",
        {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"},
    )


def test_production_domain_with_a_brought_certificate_issues_none() -> None:
    template = web_domain(issue_certificate=False, is_production=True)

    template.resource_count_is("AWS::CertificateManager::Certificate", 0)


def test_production_waf_log_group_is_retained_on_delete_and_replacement_not_a_failed_create(
    production_web_acl: BuiltAcl,
) -> None:
    production_web_acl.template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"LogGroupName": LOAD_BALANCER.waf_log_group_name},
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_non_production_waf_log_group_is_deleted_with_its_stack(
    non_production_web_acl: BuiltAcl,
) -> None:
    non_production_web_acl.template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"LogGroupName": LOAD_BALANCER.waf_log_group_name},
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
        },
    )


def test_production_waf_logs_kept_under_a_year_stay_checked_by_the_one_year_retention_rule(
    production_web_acl: BuiltAcl,
) -> None:
    assert RETENTION_RULE not in acknowledged_rules(production_web_acl.web_acl)


def test_non_production_waf_logs_kept_under_a_year_are_excused_from_the_one_year_retention_rule(
    non_production_web_acl: BuiltAcl,
) -> None:
    assert RETENTION_RULE in acknowledged_rules(non_production_web_acl.web_acl)
