"""The compute stack: load balancer, listeners, target group, fleet, signals, scaling, alarms."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from constructs_lib.config import AppConfig, EnvironmentConfig
from constructs_lib.edge import ALWAYS_REDACTED_HEADERS
from constructs_lib.fleet import ALARM_WINDOW_MINUTES, SIGNAL_TIMEOUT, release_plan
from tests.template_utils import document, only, resources, waits_for
from tools.cloud_assembly import walk
from tools.context import fixture_context

Templates = dict[str, dict[str, Template]]


def import_of(export_fragment: str) -> dict[str, Any]:
    return {"Fn::ImportValue": Match.string_like_regexp(export_fragment)}


def launch_data(template: Template) -> dict[str, Any]:
    _, launch_template = only(template, "AWS::EC2::LaunchTemplate")
    data: dict[str, Any] = launch_template["Properties"]["LaunchTemplateData"]
    return data


def group(template: Template) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::AutoScaling::AutoScalingGroup")


def test_fleet_uses_a_launch_template_never_a_launch_configuration(templates: Templates) -> None:
    for stacks in templates.values():
        stacks["compute"].resource_count_is("AWS::AutoScaling::LaunchConfiguration", 0)
        _, asg = group(stacks["compute"])
        assert "LaunchTemplate" in asg["Properties"]


def test_instances_require_imdsv2_with_a_hop_limit_of_one(prod: dict[str, Template]) -> None:
    assert launch_data(prod["compute"])["MetadataOptions"] == {
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 1,
    }


def test_root_volume_is_gp3_encrypted_with_the_environment_key(prod: dict[str, Template]) -> None:
    (mapping,) = launch_data(prod["compute"])["BlockDeviceMappings"]

    assert mapping["DeviceName"] == "/dev/xvda"
    assert mapping["Ebs"]["VolumeType"] == "gp3"
    assert mapping["Ebs"]["Encrypted"] is True
    assert re.search(r"EncryptionKey.*Arn", mapping["Ebs"]["KmsKeyId"]["Fn::ImportValue"])


def test_image_is_the_pinned_ami_from_config(
    prod: dict[str, Template], context: dict[str, Any]
) -> None:
    assert (
        launch_data(prod["compute"])["ImageId"] == context["environments"]["prod"]["fleet"]["amiId"]
    )


def test_instances_have_no_key_pair_and_use_the_app_security_group(
    prod: dict[str, Template],
) -> None:
    data = launch_data(prod["compute"])

    assert "KeyName" not in data
    (group_ref,) = data["SecurityGroupIds"]
    assert re.search(r"SecurityGroupsApp.*GroupId", group_ref["Fn::ImportValue"])


def test_instance_profile_carries_the_instance_role_from_the_security_stack(
    prod: dict[str, Template],
) -> None:
    _, profile = only(prod["compute"], "AWS::IAM::InstanceProfile")

    (role,) = profile["Properties"]["Roles"]
    assert re.search(r"InstanceRole", role["Fn::ImportValue"])


@pytest.mark.parametrize(("env", "azs"), [("prod", 3), ("staging", 3), ("dev", 2)])
def test_fleet_spans_the_private_subnet_of_every_az(
    templates: Templates, env: str, azs: int
) -> None:
    _, asg = group(templates[env]["compute"])
    subnets = [s["Fn::ImportValue"] for s in asg["Properties"]["VPCZoneIdentifier"]]

    assert len(subnets) == azs
    assert all("PrivateSubnet" in s for s in subnets)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_capacities_come_from_config(
    templates: Templates, context: dict[str, Any], env: str
) -> None:
    fleet = context["environments"][env]["fleet"]
    _, asg = group(templates[env]["compute"])

    assert asg["Properties"]["MinSize"] == str(fleet["minCapacity"])
    assert asg["Properties"]["MaxSize"] == str(fleet["maxCapacity"])


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "local"])
def test_a_deploy_never_resets_the_size_of_a_scaled_out_fleet(
    templates: Templates, env: str
) -> None:
    _, asg = group(templates[env]["compute"])

    # With DesiredCapacity in the template, every update and rollback sets the group back to it.
    assert "DesiredCapacity" not in asg["Properties"]


def test_fleet_replaces_instances_the_load_balancer_finds_unhealthy(
    prod: dict[str, Template],
) -> None:
    _, asg = group(prod["compute"])

    assert asg["Properties"]["HealthCheckType"] == "ELB"
    assert asg["Properties"]["HealthCheckGracePeriod"] > 0


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "local"])
def test_creation_waits_for_a_signal_from_every_instance_the_group_starts_with(
    templates: Templates, context: dict[str, Any], env: str
) -> None:
    _, asg = group(templates[env]["compute"])

    assert asg["CreationPolicy"]["ResourceSignal"] == {
        "Count": context["environments"][env]["fleet"]["minCapacity"],
        "Timeout": f"PT{int(SIGNAL_TIMEOUT.to_minutes())}M",
    }


COMMITTED = ["dev", "staging", "prod", "local"]


def refresh_preferences(asg: dict[str, Any]) -> dict[str, Any]:
    refresh = asg["UpdatePolicy"]["AutoScalingInstanceRefresh"]
    assert refresh["Strategy"] == "Rolling"
    preferences: dict[str, Any] = refresh["Preferences"]
    return preferences


def environment_config(context: dict[str, Any], env: str) -> EnvironmentConfig:
    return next(e for e in AppConfig.from_context(context).environments if e.name == env)


@pytest.mark.parametrize("env", COMMITTED)
def test_a_release_is_an_instance_refresh_never_a_rolling_update_that_suspends_processes(
    templates: Templates, env: str
) -> None:
    _, asg = group(templates[env]["compute"])

    assert "AutoScalingRollingUpdate" not in asg["UpdatePolicy"]
    assert "AutoScalingReplacingUpdate" not in asg["UpdatePolicy"]
    # No process is suspended anywhere in the template: scaling and healing go on during a release.
    assert "SuspendProcesses" not in json.dumps(templates[env]["compute"].to_json())
    assert refresh_preferences(asg)


@pytest.mark.parametrize("env", COMMITTED)
def test_a_release_launches_replacements_before_it_terminates_and_keeps_what_the_fleet_serves(
    templates: Templates, context: dict[str, Any], env: str
) -> None:
    _, asg = group(templates[env]["compute"])
    preferences = refresh_preferences(asg)
    plan = release_plan(environment_config(context, env).fleet)
    lowest, highest = preferences["MinHealthyPercentage"], preferences["MaxHealthyPercentage"]

    assert (lowest, highest) == (plan.min_healthy_percentage, plan.max_healthy_percentage)
    assert lowest == 100
    # AWS: the maximum is 100 to 200 and at most 100 above the minimum; above 100 it launches
    # first, and it leaves room for one whole instance at minCapacity.
    assert 100 < highest <= 200
    assert highest - lowest <= 100
    assert int(asg["Properties"]["MinSize"]) * (highest - lowest) >= 100


@pytest.mark.parametrize("env", COMMITTED)
def test_only_instances_off_the_launch_template_version_are_replaced(
    templates: Templates, env: str
) -> None:
    template = templates[env]["compute"]
    _, asg = group(template)
    launch_template_id, _ = only(template, "AWS::EC2::LaunchTemplate")

    assert refresh_preferences(asg)["SkipMatching"] is True
    # A numbered version (not $Latest or $Default): the refresh can tell matching instances and
    # Auto Scaling can roll back to the previous version.
    assert asg["Properties"]["LaunchTemplate"]["Version"] == {
        "Fn::GetAtt": [launch_template_id, "LatestVersionNumber"]
    }


@pytest.mark.parametrize("env", COMMITTED)
def test_the_paging_alarms_gate_a_release_through_its_rollout_and_bake(
    templates: Templates, context: dict[str, Any], env: str
) -> None:
    template = templates[env]["compute"]
    _, asg = group(template)
    preferences = refresh_preferences(asg)
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    gate = [ref["Ref"] for ref in preferences["AlarmSpecification"]["Alarms"]]
    names = {alarms[alarm]["Properties"]["AlarmName"] for alarm in gate}
    prefix = f"{env}-webapp-compute-"

    assert names == {
        f"{prefix}release-healthy-hosts-below-minimum",
        f"{prefix}load-balancer-5xx",
        f"{prefix}server-error-rate",
        f"{prefix}target-response-time-p99",
    }
    # Each gate alarm exists before the group's update can start a refresh.
    assert set(gate) <= set(asg["DependsOn"])
    plan = release_plan(environment_config(context, env).fleet)
    assert preferences["BakeTime"] == plan.bake_minutes * 60
    for alarm in gate:
        props = alarms[alarm]["Properties"]
        window = props["EvaluationPeriods"] * props.get("Period", 60)
        # The bake outlasts every gate alarm's evaluation window, so an alarm that a release sets
        # off in its last batch can still fail it.
        assert preferences["BakeTime"] >= window, alarm
        assert window <= ALARM_WINDOW_MINUTES * 60, alarm


def test_the_release_gate_on_healthy_hosts_ignores_missing_data_unlike_the_page(
    prod: dict[str, Template],
) -> None:
    page = alarm_named(prod["compute"], "prod-webapp-compute-healthy-hosts-below-minimum")
    gate = alarm_named(prod["compute"], "prod-webapp-compute-release-healthy-hosts-below-minimum")
    # The same count (prod sums each AZ's: its target group has cross-zone off), threshold and
    # window.
    same = ("Metrics", "Threshold", "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator")

    assert {key: gate[key] for key in same} == {key: page[key] for key in same}
    # Minutes without data (a first create before the listener exists) leave the gate in
    # INSUFFICIENT_DATA, which lets a release through; the page still counts them as an outage.
    assert (page["TreatMissingData"], gate["TreatMissingData"]) == ("breaching", "missing")
    # It pages nobody: it tells the informational topic why a release rolled back.
    assert gate["AlarmActions"] == [{"Ref": topic(prod["compute"], INFORMS)}]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_checkpoints_pause_a_release_where_config_says(
    templates: Templates, context: dict[str, Any], env: str
) -> None:
    _, asg = group(templates[env]["compute"])
    preferences = refresh_preferences(asg)
    rollout = environment_config(context, env).fleet.rollout

    if rollout.checkpoints:
        assert preferences["CheckpointPercentages"] == list(rollout.checkpoints)
        assert preferences["CheckpointDelay"] == rollout.checkpoint_delay_minutes * 60
    else:
        assert "CheckpointPercentages" not in preferences
        assert "CheckpointDelay" not in preferences


def test_a_release_waits_for_neither_standby_nor_scale_in_protected_instances(
    prod: dict[str, Template],
) -> None:
    preferences = refresh_preferences(group(prod["compute"])[1])

    assert (preferences["StandbyInstances"], preferences["ScaleInProtectedInstances"]) == (
        "Ignore",
        "Refresh",
    )
    # A replacement counts no sooner than one alarm window after it entered service.
    assert preferences["InstanceWarmup"] == ALARM_WINDOW_MINUTES * 60


def topic(template: Template, name: str) -> str:
    """The logical ID of the topic called `name`."""
    (found,) = (
        logical_id
        for logical_id, resource in resources(template, "AWS::SNS::Topic").items()
        if resource["Properties"]["TopicName"] == name
    )
    return found


def test_fleet_notifies_launches_terminations_and_their_errors_to_the_informational_topic(
    prod: dict[str, Template],
) -> None:
    informational = topic(prod["compute"], "prod-webapp-compute-notifications")
    _, asg = group(prod["compute"])

    assert asg["Properties"]["NotificationConfigurations"] == [
        {
            "TopicARN": {"Ref": informational},
            "NotificationTypes": [
                "autoscaling:EC2_INSTANCE_LAUNCH",
                "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
                "autoscaling:EC2_INSTANCE_TERMINATE",
                "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
            ],
        }
    ]


def test_paging_topic_keeps_its_logical_id_so_confirmed_subscriptions_survive(
    prod: dict[str, Template],
) -> None:
    assert topic(prod["compute"], "prod-webapp-compute-alarms").startswith("Notifications")


def test_both_topics_are_encrypted_with_the_environment_key(prod: dict[str, Template]) -> None:
    topics = resources(prod["compute"], "AWS::SNS::Topic")

    assert len(topics) == 2
    for found in topics.values():
        key = found["Properties"]["KmsMasterKeyId"]["Fn::ImportValue"]
        assert re.search(r"EncryptionKey.*Arn", key)


@pytest.mark.parametrize(
    "name", ["prod-webapp-compute-alarms", "prod-webapp-compute-notifications"]
)
def test_cloudwatch_alarms_of_this_environment_only_may_publish_to_each_topic(
    prod: dict[str, Template], name: str
) -> None:
    template = prod["compute"]
    topic_id = topic(template, name)
    (policy,) = (
        p["Properties"]
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [{"Ref": topic_id}]
    )
    statements = policy["PolicyDocument"]["Statement"]
    (allow,) = (s for s in statements if s["Effect"] == "Allow")

    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": topic_id}
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "333333333333"},
        "ArnLike": {
            "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:333333333333:alarm:prod-webapp-compute-*"
        },
    }
    # The deny of plain HTTP that `enforce_ssl` wrote is still there.
    assert any(s["Effect"] == "Deny" for s in statements)


def test_alarm_and_notification_emails_are_subscribed_only_where_configured(
    templates: Templates,
) -> None:
    prod = templates["prod"]["compute"]
    prod.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "email",
            "Endpoint": "oncall@example.com",
            "TopicArn": {"Ref": topic(prod, "prod-webapp-compute-alarms")},
        },
    )
    templates["dev"]["compute"].resource_count_is("AWS::SNS::Subscription", 0)


@pytest.mark.parametrize("metric", ["ASGAverageCPUUtilization", "ALBRequestCountPerTarget"])
def test_fleet_scales_on_cpu_and_on_requests_per_target(
    prod: dict[str, Template], metric: str
) -> None:
    prod["compute"].has_resource_properties(
        "AWS::AutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": Match.object_like(
                {
                    "PredefinedMetricSpecification": Match.object_like(
                        {"PredefinedMetricType": metric}
                    )
                }
            ),
        },
    )


def test_load_balancer_is_internet_facing_in_the_public_subnets(prod: dict[str, Template]) -> None:
    _, lb = only(prod["compute"], "AWS::ElasticLoadBalancingV2::LoadBalancer")

    assert lb["Properties"]["Scheme"] == "internet-facing"
    assert all("PublicSubnet" in s["Fn::ImportValue"] for s in lb["Properties"]["Subnets"])


def test_load_balancer_is_named_by_the_convention(prod: dict[str, Template]) -> None:
    prod["compute"].has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Name": "prod-webapp-compute-alb"}
    )


def attributes(template: Template) -> dict[str, str]:
    _, lb = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    return {a["Key"]: a["Value"] for a in lb["Properties"]["LoadBalancerAttributes"]}


def test_load_balancer_drops_invalid_header_fields(templates: Templates) -> None:
    for stacks in templates.values():
        assert (
            attributes(stacks["compute"])["routing.http.drop_invalid_header_fields.enabled"]
            == "true"
        )


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_no_load_balancer_is_protected_from_its_first_create(
    templates: Templates, env: str
) -> None:
    # Protected from the start, the rollback of a failed first create could not delete it.
    assert "deletion_protection.enabled" not in attributes(templates[env]["compute"])


def test_prod_protects_its_load_balancer_only_after_everything_else_was_created(
    prod: dict[str, Template],
) -> None:
    template = document(prod["compute"])
    load_balancer_id, _ = only(prod["compute"], "AWS::ElasticLoadBalancingV2::LoadBalancer")
    (protection_id,) = resources(prod["compute"], "Custom::LoadBalancerDeletionProtection")

    assert template["Resources"][protection_id]["Properties"]["LoadBalancerArn"] == {
        "Ref": load_balancer_id
    }
    # Anything that can still fail during the first create must come before it, the fleet's
    # signals included: a failed create then rolls back an unprotected load balancer.
    others = set(template["Resources"]) - {protection_id, "CDKMetadata"}
    assert others == waits_for(template, protection_id)


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_other_environments_leave_their_load_balancer_unprotected(
    templates: Templates, env: str
) -> None:
    templates[env]["compute"].resource_count_is("Custom::LoadBalancerDeletionProtection", 0)


def test_load_balancer_writes_access_logs_to_the_access_log_bucket(
    prod: dict[str, Template],
) -> None:
    found = attributes(prod["compute"])

    assert found["access_logs.s3.enabled"] == "true"
    assert found["access_logs.s3.prefix"] == "load-balancer"


def listeners(template: Template) -> dict[int, dict[str, Any]]:
    return {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    }


def test_https_listener_serves_the_certificate_requested_for_the_domain(
    prod: dict[str, Template],
) -> None:
    https = listeners(prod["compute"])[443]
    certificate_id, _ = only(prod["compute"], "AWS::CertificateManager::Certificate")

    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": {"Ref": certificate_id}}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")


def test_https_listener_serves_a_certificate_brought_with_certificate_arn_and_requests_none(
    templates: Templates, context: dict[str, Any]
) -> None:
    staging = templates["staging"]["compute"]

    assert listeners(staging)[443]["Certificates"] == [
        {"CertificateArn": context["environments"]["staging"]["edge"]["certificateArn"]}
    ]
    assert resources(staging, "AWS::CertificateManager::Certificate") == {}


def test_certificate_is_for_the_domain_and_validated_by_dns_in_its_hosted_zone(
    prod: dict[str, Template], context: dict[str, Any]
) -> None:
    domain = context["environments"]["prod"]["edge"]["domain"]
    _, certificate = only(prod["compute"], "AWS::CertificateManager::Certificate")

    assert certificate["Properties"]["DomainName"] == domain["name"]
    assert certificate["Properties"]["ValidationMethod"] == "DNS"
    assert certificate["Properties"]["DomainValidationOptions"] == [
        {"DomainName": domain["name"], "HostedZoneId": domain["hostedZoneId"]}
    ]


def test_production_certificate_is_retained_on_delete_and_replacement_but_not_a_failed_create(
    prod: dict[str, Template],
) -> None:
    _, certificate = only(prod["compute"], "AWS::CertificateManager::Certificate")

    assert certificate["DeletionPolicy"] == "RetainExceptOnCreate"
    assert certificate["UpdateReplacePolicy"] == "Retain"


def test_certificate_keeps_its_logical_id_because_a_new_one_means_a_new_validation_wait(
    prod: dict[str, Template],
) -> None:
    certificate_id, _ = only(prod["compute"], "AWS::CertificateManager::Certificate")

    assert certificate_id == "WebDomainCertificateFAE88D01"


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_alias_record_points_the_domain_at_the_load_balancer(
    templates: Templates, context: dict[str, Any], env: str
) -> None:
    template = templates[env]["compute"]
    domain = context["environments"][env]["edge"]["domain"]
    lb_id, _ = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    _, record = only(template, "AWS::Route53::RecordSet")
    props = record["Properties"]

    assert (props["Type"], props["Name"]) == ("A", f"{domain['name']}.")
    assert props["HostedZoneId"] == domain["hostedZoneId"]
    assert props["AliasTarget"]["HostedZoneId"] == {"Fn::GetAtt": [lb_id, "CanonicalHostedZoneID"]}
    assert {"Fn::GetAtt": [lb_id, "DNSName"]} in props["AliasTarget"]["DNSName"]["Fn::Join"][1]


def test_no_aaaa_record_because_the_load_balancer_is_ipv4_only(prod: dict[str, Template]) -> None:
    _, load_balancer = only(prod["compute"], "AWS::ElasticLoadBalancingV2::LoadBalancer")
    records = resources(prod["compute"], "AWS::Route53::RecordSet").values()

    assert load_balancer["Properties"].get("IpAddressType", "ipv4") == "ipv4"
    assert [r["Properties"]["Type"] for r in records] == ["A"]


def test_environment_without_a_domain_has_no_certificate_and_no_records(
    dev: dict[str, Template],
) -> None:
    assert resources(dev["compute"], "AWS::CertificateManager::Certificate") == {}
    assert resources(dev["compute"], "AWS::Route53::RecordSet") == {}


def test_http_listener_redirects_to_https_on_the_domain(
    prod: dict[str, Template], context: dict[str, Any]
) -> None:
    (action,) = listeners(prod["compute"])[80]["DefaultActions"]

    assert action["Type"] == "redirect"
    assert action["RedirectConfig"] == {
        "Protocol": "HTTPS",
        "Host": context["environments"]["prod"]["edge"]["domain"]["name"],
        "Port": "443",
        "StatusCode": "HTTP_301",
    }


def test_without_a_certificate_http_forwards_and_no_https_listener_exists(
    dev: dict[str, Template],
) -> None:
    found = listeners(dev["compute"])
    target_group_id, _ = only(dev["compute"], "AWS::ElasticLoadBalancingV2::TargetGroup")

    assert sorted(found) == [80]
    assert found[80]["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": {"Ref": target_group_id}}
    ]


def test_target_group_checks_the_configured_health_path_on_the_app_port(
    prod: dict[str, Template], context: dict[str, Any]
) -> None:
    fleet = context["environments"]["prod"]["fleet"]
    _, target_group = only(prod["compute"], "AWS::ElasticLoadBalancingV2::TargetGroup")
    props = target_group["Properties"]

    assert props["Port"] == fleet["appPort"]
    assert props["HealthCheckPath"] == fleet["healthCheckPath"]
    assert props["Matcher"] == {"HttpCode": "200"}
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in props[
        "TargetGroupAttributes"
    ]


def test_web_acl_protects_the_load_balancer_and_logs_to_an_encrypted_group(
    prod: dict[str, Template],
) -> None:
    template = prod["compute"]
    acl_id, acl = only(template, "AWS::WAFv2::WebACL")
    lb_id, _ = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")

    assert acl["Properties"]["Scope"] == "REGIONAL"
    template.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {"ResourceArn": {"Ref": lb_id}, "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]}},
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": "aws-waf-logs-prod-webapp-compute-waf", "KmsKeyId": Match.any_value()},
    )


PAGES, INFORMS = "prod-webapp-compute-alarms", "prod-webapp-compute-notifications"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
ASG = "AWS::AutoScaling::AutoScalingGroup"
# prod's alarms as the on-call engineer relies on them: name, metric, namespace, dimensions (name
# and the resource whose value it is), statistic, period, evaluation periods, datapoints,
# threshold, comparison, missing data, and the topic. The README's on-call table says the same.
PROD_ALARMS: dict[str, dict[str, Any]] = {
    "prod-webapp-compute-load-balancer-5xx": {
        "metric": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"),
        "dimensions": {"LoadBalancer": LOAD_BALANCER},
        "statistic": "Sum",
        "alarm": (60, 3, 2, 10, "GreaterThanOrEqualToThreshold", "notBreaching"),
        "topic": PAGES,
    },
    "prod-webapp-compute-target-response-time-p99": {
        "metric": ("AWS/ApplicationELB", "TargetResponseTime"),
        "dimensions": {"LoadBalancer": LOAD_BALANCER},
        "statistic": "p99",
        "alarm": (60, 5, 3, 2, "GreaterThanThreshold", "notBreaching"),
        "topic": PAGES,
    },
    "prod-webapp-compute-unhealthy-hosts": {
        "metric": ("AWS/ApplicationELB", "UnHealthyHostCount"),
        "dimensions": {"LoadBalancer": LOAD_BALANCER, "TargetGroup": TARGET_GROUP},
        "statistic": "Maximum",
        "alarm": (60, 3, 3, 0, "GreaterThanThreshold", "notBreaching"),
        "topic": INFORMS,
    },
    "prod-webapp-compute-high-cpu": {
        "metric": ("AWS/EC2", "CPUUtilization"),
        "dimensions": {"AutoScalingGroupName": ASG},
        "statistic": "Average",
        "alarm": (60, 10, 8, 85, "GreaterThanThreshold", "missing"),
        "topic": INFORMS,
    },
}
SERVER_ERROR_RATE = "prod-webapp-compute-server-error-rate"
# Healthy hosts: the page, and the release gate's twin (missing data not breaching).
HEALTHY_HOSTS = {
    "healthy-hosts-below-minimum": ("breaching", PAGES),
    "release-healthy-hosts-below-minimum": ("missing", INFORMS),
}
ENVIRONMENTS = AppConfig.from_context(fixture_context()).environments


def test_a_committed_environment_redacts_a_header_named_in_config() -> None:
    # The parametrized test below would otherwise never see wafRedactedHeaders at work.
    assert any(e.edge.waf_redacted_headers for e in ENVIRONMENTS)


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=[e.name for e in ENVIRONMENTS])
def test_waf_logs_redact_credentials_cookies_and_the_headers_named_in_config(
    templates: Templates, environment: EnvironmentConfig
) -> None:
    _, logging = only(templates[environment.name]["compute"], "AWS::WAFv2::LoggingConfiguration")

    redacted = [field["SingleHeader"]["Name"] for field in logging["Properties"]["RedactedFields"]]
    assert {"authorization", "cookie"} <= set(redacted)
    assert set(redacted) == {*ALWAYS_REDACTED_HEADERS, *environment.edge.waf_redacted_headers}
    assert len(redacted) == len(set(redacted))


def alarm_named(template: Template, name: str) -> dict[str, Any]:
    (props,) = (
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == name
    )
    return dict(props)


def refers_to(value: Any, template: Template, resource_type: str) -> bool:
    """True if `value` derives from the one resource of `resource_type` (Ref or GetAtt).

    A target group's `LoadBalancer` dimension comes from its listener's ARN, which names the load
    balancer; a listener of the load balancer counts as the load balancer.
    """
    logical_id, _ = only(template, resource_type)
    sources = {logical_id} | {
        listener_id
        for listener_id, listener in resources(
            template, "AWS::ElasticLoadBalancingV2::Listener"
        ).items()
        if listener["Properties"]["LoadBalancerArn"] == {"Ref": logical_id}
    }
    referenced = set()
    for item in walk(value):
        if isinstance(item, dict) and "Ref" in item:
            referenced.add(item["Ref"])
        elif isinstance(item, dict) and "Fn::GetAtt" in item:
            referenced.add(item["Fn::GetAtt"][0])
    return bool(referenced) and referenced <= sources


def test_every_alarm_is_in_the_asserted_table(prod: dict[str, Template]) -> None:
    names = {
        a["Properties"]["AlarmName"]
        for a in resources(prod["compute"], "AWS::CloudWatch::Alarm").values()
    }

    # The per-AZ alarms (`-az-<zone>-`) are asserted in tests/test_zonal.py.
    assert {n for n in names if "-az-" not in n} == {
        *PROD_ALARMS,
        SERVER_ERROR_RATE,
        *(f"prod-webapp-compute-{role}" for role in HEALTHY_HOSTS),
    }


@pytest.mark.parametrize("role", sorted(HEALTHY_HOSTS))
def test_with_cross_zone_off_healthy_hosts_are_summed_over_every_az_of_the_environment(
    prod: dict[str, Template], role: str
) -> None:
    # A load-balancer node of a target group with cross-zone off counts only its own AZ's
    # targets: the group's Minimum over the nodes would be one AZ's count, a page for ever.
    template = prod["compute"]
    props = alarm_named(template, f"prod-webapp-compute-{role}")
    (expression,) = (m for m in props["Metrics"] if "Expression" in m)
    inputs = {m["Id"]: m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m}
    zones = next(e for e in ENVIRONMENTS if e.name == "prod").availability_zones

    assert expression["Expression"] == " + ".join(f"FILL({i}, 0)" for i in sorted(inputs))
    assert len(inputs) == len(zones)
    seen_zones = []
    for stat in inputs.values():
        dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
        assert stat["Metric"]["MetricName"] == "HealthyHostCount"
        assert stat["Stat"] == "Minimum"
        assert refers_to(dimensions["LoadBalancer"], template, LOAD_BALANCER)
        assert refers_to(dimensions["TargetGroup"], template, TARGET_GROUP)
        seen_zones.append(dimensions["AvailabilityZone"])
    assert sorted(seen_zones) == sorted(zones)
    missing, target = HEALTHY_HOSTS[role]
    assert (props["Threshold"], props["ComparisonOperator"], props["TreatMissingData"]) == (
        3,
        "LessThanThreshold",
        missing,
    )
    assert props["AlarmActions"] == [{"Ref": topic(template, target)}]


def test_with_cross_zone_on_healthy_hosts_are_the_target_groups_own_count(
    dev: dict[str, Template],
) -> None:
    template = dev["compute"]
    for role in HEALTHY_HOSTS:
        props = alarm_named(template, f"dev-webapp-compute-{role}")
        dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}

        assert props["MetricName"] == "HealthyHostCount"
        assert sorted(dimensions) == ["LoadBalancer", "TargetGroup"]


@pytest.mark.parametrize("name", sorted(PROD_ALARMS))
def test_alarm_watches_its_metric_with_the_reasoned_settings_and_notifies_its_topic(
    prod: dict[str, Template], name: str
) -> None:
    template, expected = prod["compute"], PROD_ALARMS[name]
    props = alarm_named(template, name)
    statistic_key = "ExtendedStatistic" if expected["statistic"].startswith("p") else "Statistic"

    assert (props["Namespace"], props["MetricName"]) == expected["metric"]
    dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
    assert sorted(dimensions) == sorted(expected["dimensions"])
    for dimension, resource_type in expected["dimensions"].items():
        assert refers_to(dimensions[dimension], template, resource_type), dimensions
    assert props[statistic_key] == expected["statistic"]
    assert (
        props["Period"],
        props["EvaluationPeriods"],
        props["DatapointsToAlarm"],
        props["Threshold"],
        props["ComparisonOperator"],
        props["TreatMissingData"],
    ) == expected["alarm"]
    topic_ref = {"Ref": topic(template, expected["topic"])}
    assert props["AlarmActions"] == [topic_ref]
    assert props["OKActions"] == [topic_ref]


def test_server_error_rate_counts_only_minutes_with_the_minimum_of_requests(
    prod: dict[str, Template],
) -> None:
    template = prod["compute"]
    props = alarm_named(template, SERVER_ERROR_RATE)
    metrics = {m["Id"]: m for m in props["Metrics"]}
    (expression,) = (m for m in props["Metrics"] if "Expression" in m)
    inputs = {m["Id"]: m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m}

    # Failed over answered, both from the response counts: never RequestCount, which leaves out
    # the requests rejected before a target was chosen (and so can put the rate above 100 %).
    answered = "FILL(t2, 0) + FILL(t3, 0) + FILL(t4, 0) + FILL(t5, 0) + FILL(e5, 0)"
    assert expression["Expression"] == (
        f"IF({answered} >= 50, 100 * (FILL(t5, 0) + FILL(e5, 0)) / ({answered}), 0)"
    )
    assert expression["ReturnData"] is True
    assert {
        i: (s["Metric"]["Namespace"], s["Metric"]["MetricName"]) for i, s in inputs.items()
    } == {
        "t2": ("AWS/ApplicationELB", "HTTPCode_Target_2XX_Count"),
        "t3": ("AWS/ApplicationELB", "HTTPCode_Target_3XX_Count"),
        "t4": ("AWS/ApplicationELB", "HTTPCode_Target_4XX_Count"),
        "t5": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        "e5": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"),
    }
    for stat in inputs.values():
        assert (stat["Stat"], stat["Period"]) == ("Sum", 60)
        ((dimension,),) = [stat["Metric"]["Dimensions"]]
        assert dimension["Name"] == "LoadBalancer"
        assert refers_to(dimension["Value"], template, LOAD_BALANCER)
    assert all(metrics[i]["ReturnData"] is False for i in inputs)
    assert (
        props["EvaluationPeriods"],
        props["DatapointsToAlarm"],
        props["Threshold"],
        props["ComparisonOperator"],
        props["TreatMissingData"],
    ) == (5, 3, 5, "GreaterThanThreshold", "notBreaching")
    assert props["AlarmActions"] == [{"Ref": topic(template, PAGES)}]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_per_environment_thresholds_come_from_config(
    templates: Templates, context: dict[str, Any], env: str
) -> None:
    environment = next(e for e in AppConfig.from_context(context).environments if e.name == env)
    template = templates[env]["compute"]

    def threshold(alarm: str) -> Any:
        return alarm_named(template, f"{env}-webapp-compute-{alarm}")["Threshold"]

    assert threshold("healthy-hosts-below-minimum") == environment.fleet.min_capacity
    assert threshold("load-balancer-5xx") == environment.alarms.elb_errors_per_minute
    assert threshold("server-error-rate") == environment.alarms.server_error_rate_percent
    assert threshold("target-response-time-p99") == environment.alarms.response_time_p99_seconds
    expression = next(
        m["Expression"]
        for m in alarm_named(template, f"{env}-webapp-compute-server-error-rate")["Metrics"]
        if "Expression" in m
    )
    assert f" >= {environment.alarms.minimum_requests}, 100 * " in expression


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_outputs_give_the_urls_on_the_domain(
    templates: Templates, context: dict[str, Any], env: str
) -> None:
    outputs = document(templates[env]["compute"])["Outputs"]
    domain = context["environments"][env]["edge"]["domain"]["name"]

    assert outputs["LoadBalancerUrl"]["Value"] == f"https://{domain}"
    assert outputs["HealthCheckUrl"]["Value"] == f"https://{domain}/health"


def test_outputs_give_the_load_balancer_url_without_a_domain(dev: dict[str, Template]) -> None:
    http = dev["compute"].find_outputs("LoadBalancerUrl")["LoadBalancerUrl"]["Value"]

    assert http["Fn::Join"][1][0] == "http://"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_fleet_starts_only_once_the_listener_that_forwards_to_it_exists(
    templates: Templates, env: str
) -> None:
    template = templates[env]["compute"]
    group_id, _ = group(template)
    target_group_id, _ = only(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    forwarding = [
        listener_id
        for listener_id, listener in resources(
            template, "AWS::ElasticLoadBalancingV2::Listener"
        ).items()
        if any(
            action.get("TargetGroupArn") == {"Ref": target_group_id}
            for action in listener["Properties"]["DefaultActions"]
        )
    ]

    # Instances that boot before it would wait for a target health that stays `unused`.
    assert len(forwarding) == 1
    assert forwarding[0] in waits_for(document(template), group_id)
