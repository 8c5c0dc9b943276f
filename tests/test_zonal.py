"""Surviving a bad AZ: per-AZ alarms, the composite pages, zonal shift, autoshift practice runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.config import AppConfig, EnvironmentConfig
from constructs_lib.core import FLEET_CPU_TARGET_PERCENT
from tests.conftest import Synthesized
from tests.template_utils import only, resources
from tools.context import fixture_context

Templates = dict[str, dict[str, Template]]
ENVIRONMENTS = AppConfig.from_context(fixture_context()).environments
IDS = [e.name for e in ENVIRONMENTS]
ANSWERED = {
    "HTTPCode_Target_2XX_Count",
    "HTTPCode_Target_3XX_Count",
    "HTTPCode_Target_4XX_Count",
    "HTTPCode_Target_5XX_Count",
    "HTTPCode_ELB_5XX_Count",
}


def alarms_by_name(template: Template, kind: str = "AWS::CloudWatch::Alarm") -> dict[str, Any]:
    return {
        a["Properties"]["AlarmName"]: (logical_id, a["Properties"])
        for logical_id, a in resources(template, kind).items()
    }


def topic(template: Template, name: str) -> str:
    (logical_id,) = (
        k
        for k, t in resources(template, "AWS::SNS::Topic").items()
        if t["Properties"]["TopicName"] == name
    )
    return logical_id


def dimensions(stat: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}


def load_balancer_full_name(template: Template) -> dict[str, Any]:
    lb_id, _ = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    return {"Fn::GetAtt": [lb_id, "LoadBalancerFullName"]}


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=IDS)
def test_each_az_has_one_alarm_set_on_its_own_metrics_with_the_configured_thresholds(
    templates: Templates, environment: EnvironmentConfig
) -> None:
    template = templates[environment.name]["compute"]
    alarms = alarms_by_name(template)
    prefix = f"{environment.name}-webapp-compute-az-"
    zonal = {name for name in alarms if name.startswith(prefix)}
    lb = load_balancer_full_name(template)
    parts = ("server-error-rate", "target-response-time-p99", "error-outlier", "latency-outlier")
    informs = topic(template, f"{environment.name}-webapp-compute-notifications")
    every = template.to_json()["Resources"]

    assert zonal == {
        f"{prefix}{az}-{part}" for az in environment.availability_zones for part in parts
    }
    for az in environment.availability_zones:
        _, rate = alarms[f"{prefix}{az}-server-error-rate"]
        stats = [m["MetricStat"] for m in rate["Metrics"] if "MetricStat" in m]
        assert {s["Metric"]["MetricName"] for s in stats} == ANSWERED
        assert all(dimensions(s) == {"AvailabilityZone": az, "LoadBalancer": lb} for s in stats)
        assert rate["Threshold"] == environment.alarms.zonal.server_error_rate_percent
        (expression,) = (m["Expression"] for m in rate["Metrics"] if "Expression" in m)
        assert f">= {environment.alarms.zonal.minimum_requests}," in expression

        _, slow = alarms[f"{prefix}{az}-target-response-time-p99"]
        assert (slow["MetricName"], slow["ExtendedStatistic"]) == ("TargetResponseTime", "p99")
        assert {d["Name"]: d["Value"] for d in slow["Dimensions"]} == {
            "AvailabilityZone": az,
            "LoadBalancer": lb,
        }
        assert slow["Threshold"] == environment.alarms.zonal.response_time_p99_seconds

        _, errors = alarms[f"{prefix}{az}-error-outlier"]
        assert errors["Threshold"] == environment.alarms.zonal.error_outlier_points
        _, latency = alarms[f"{prefix}{az}-latency-outlier"]
        assert latency["Threshold"] == environment.alarms.zonal.latency_outlier_ratio
        for props in (rate, slow, errors, latency):
            assert (
                props.get("Period", 60),
                props["EvaluationPeriods"],
                props["DatapointsToAlarm"],
                props["ComparisonOperator"],
                props["TreatMissingData"],
            ) == (60, 5, 3, "GreaterThanThreshold", "notBreaching")
        for part in parts:
            logical_id, props = alarms[f"{prefix}{az}-{part}"]
            # Each informs, once the topic lets alarms publish (monitoring's publish_to).
            assert props["AlarmActions"] == [{"Ref": informs}], logical_id
            assert informs in every[logical_id].get("DependsOn", []), logical_id


def test_error_outlier_compares_this_az_with_the_rest_of_the_load_balancer(
    prod: dict[str, Template],
) -> None:
    template = prod["compute"]
    _, props = alarms_by_name(template)["prod-webapp-compute-az-us-east-1b-error-outlier"]
    stats = {m["Id"]: m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m}
    lb = load_balancer_full_name(template)

    # At most 10 metrics per alarm on metric math (a hard CloudWatch limit).
    assert len(stats) == 10
    mine = {i: s for i, s in stats.items() if i.startswith("m")}
    every = {i: s for i, s in stats.items() if i.startswith("a")}
    assert {s["Metric"]["MetricName"] for s in mine.values()} == ANSWERED
    assert {s["Metric"]["MetricName"] for s in every.values()} == ANSWERED
    assert all(
        dimensions(s) == {"AvailabilityZone": "us-east-1b", "LoadBalancer": lb}
        for s in mine.values()
    )
    assert all(dimensions(s) == {"LoadBalancer": lb} for s in every.values())
    (expression,) = (m["Expression"] for m in props["Metrics"] if "Expression" in m)
    # this AZ's rate minus the others' (whole load balancer minus this AZ)
    assert " - 100 * ((FILL(at5, 0) + FILL(ae5, 0)) - (FILL(mt5, 0) + FILL(me5, 0)))" in expression


def test_latency_outlier_compares_this_az_with_the_slowest_other_az(
    prod: dict[str, Template],
) -> None:
    template = prod["compute"]
    _, props = alarms_by_name(template)["prod-webapp-compute-az-us-east-1a-latency-outlier"]
    stats = {m["Id"]: m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m}
    (expression,) = (m["Expression"] for m in props["Metrics"] if "Expression" in m)

    assert {i: dimensions(s)["AvailabilityZone"] for i, s in stats.items()} == {
        "mine": "us-east-1a",
        "o0": "us-east-1b",
        "o1": "us-east-1c",
    }
    assert all(s["Stat"] == "p99" for s in stats.values())
    assert expression == "IF(mine > 2.0, mine / MAX([o0, o1]), 0)"


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=IDS)
def test_one_composite_per_az_pages_when_it_is_bad_and_worse_than_the_others(
    templates: Templates, environment: EnvironmentConfig
) -> None:
    template = templates[environment.name]["compute"]
    alarms = alarms_by_name(template)
    composites = alarms_by_name(template, "AWS::CloudWatch::CompositeAlarm")
    pages = {"Ref": topic(template, f"{environment.name}-webapp-compute-alarms")}
    prefix = f"{environment.name}-webapp-compute-az-"

    assert {n for n in composites if n.startswith(prefix)} == {
        f"{prefix}{az}-impaired" for az in environment.availability_zones
    }
    for az in environment.availability_zones:
        logical_id, props = composites[f"{prefix}{az}-impaired"]
        assert props["AlarmActions"] == [pages]
        assert props["OKActions"] == [pages]
        joined = props["AlarmRule"]["Fn::Join"][1]
        parts = [p if isinstance(p, str) else p["Fn::GetAtt"][0] for p in joined]

        def ref(role: str, az: str = az) -> str:
            return str(alarms[f"{prefix}{az}-{role}"][0])

        assert "".join(parts) == (
            f'((ALARM("{ref("server-error-rate")}") AND ALARM("{ref("error-outlier")}")) OR '
            f'(ALARM("{ref("target-response-time-p99")}") AND ALARM("{ref("latency-outlier")}")))'
        )
        # It pages only once the paging topic lets alarms publish (alarms.publish_to).
        resource = template.to_json()["Resources"][logical_id]
        assert pages["Ref"] in resource.get("DependsOn", [])


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=IDS)
def test_load_balancer_and_group_take_part_in_zonal_shift(
    templates: Templates, environment: EnvironmentConfig
) -> None:
    template = templates[environment.name]["compute"]
    _, lb = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    _, group = only(template, "AWS::AutoScaling::AutoScalingGroup")

    attributes = {a["Key"]: a["Value"] for a in lb["Properties"]["LoadBalancerAttributes"]}
    assert attributes["zonal_shift.config.enabled"] == "true"
    assert group["Properties"]["AvailabilityZoneImpairmentPolicy"] == {
        "ZonalShiftEnabled": True,
        "ImpairedZoneHealthCheckBehavior": "IgnoreUnhealthy",
    }


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=IDS)
def test_cross_zone_is_off_exactly_where_every_az_holds_an_instance(
    templates: Templates, environment: EnvironmentConfig
) -> None:
    _, target_group = only(
        templates[environment.name]["compute"], "AWS::ElasticLoadBalancingV2::TargetGroup"
    )
    attributes = {a["Key"]: a["Value"] for a in target_group["Properties"]["TargetGroupAttributes"]}

    every_az_served = environment.fleet.min_capacity >= len(environment.availability_zones)
    assert attributes["load_balancing.cross_zone.enabled"] == (
        "false" if every_az_served else "true"
    )


def test_a_committed_environment_turns_cross_zone_off() -> None:
    # Otherwise the parametrized test above would never see the per-AZ path end to end.
    assert any(e.fleet.min_capacity >= len(e.availability_zones) for e in ENVIRONMENTS)


def test_prod_autoshifts_with_practice_runs_that_end_on_its_paging_alarms(
    prod: dict[str, Template], context: dict[str, Any]
) -> None:
    template = prod["compute"]
    _, config = only(template, "AWS::ARCZonalShift::ZonalAutoshiftConfiguration")
    props = config["Properties"]
    lb_id, _ = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    composites = alarms_by_name(template, "AWS::CloudWatch::CompositeAlarm")
    alarms = alarms_by_name(template)
    autoshift = context["environments"]["prod"]["autoshift"]

    assert props["ResourceIdentifier"] == {"Ref": lb_id}
    assert props["ZonalAutoshiftStatus"] == "ENABLED"
    runs = props["PracticeRunConfiguration"]
    assert runs["BlockedWindows"] == autoshift["practiceRunBlockedWindows"]
    assert runs["BlockedDates"] == autoshift["practiceRunBlockedDates"]
    outcome_id, outcome = composites["prod-webapp-compute-practice-run-outcome"]
    blocker_id, blocker = composites["prod-webapp-compute-practice-run-blocker"]
    assert runs["OutcomeAlarms"] == [
        {"Type": "CLOUDWATCH", "AlarmIdentifier": {"Fn::GetAtt": [outcome_id, "Arn"]}}
    ]
    assert runs["BlockingAlarms"] == [
        {"Type": "CLOUDWATCH", "AlarmIdentifier": {"Fn::GetAtt": [blocker_id, "Arn"]}}
    ]

    def members(props: dict[str, Any]) -> set[str]:
        return {
            p["Fn::GetAtt"][0] for p in props["AlarmRule"]["Fn::Join"][1] if isinstance(p, dict)
        }

    paging = {
        alarms[f"prod-webapp-compute-{role}"][0]
        for role in (
            "healthy-hosts-below-minimum",
            "load-balancer-5xx",
            "server-error-rate",
            "target-response-time-p99",
        )
    }
    assert members(outcome) == paging
    impaired = {
        composites[f"prod-webapp-compute-az-{az}-impaired"][0]
        for az in ("us-east-1a", "us-east-1b", "us-east-1c")
    }
    assert members(blocker) == impaired | {outcome_id}
    # Control conditions, not pages: the paging alarms and the composites page on their own.
    assert "AlarmActions" not in outcome
    assert "AlarmActions" not in blocker


@pytest.mark.parametrize("env", ["dev", "staging", "local"])
def test_only_prod_autoshifts_and_the_emulator_gets_nothing_of_arc(
    templates: Templates, env: str
) -> None:
    for stack in templates[env].values():
        found = stack.to_json()["Resources"].values()
        assert not [r for r in found if r["Type"].startswith("AWS::ARCZonalShift::")]
    names = alarms_by_name(templates[env]["compute"], "AWS::CloudWatch::CompositeAlarm")
    assert not [n for n in names if "practice-run" in n]


def test_fleet_scales_on_the_cpu_target_the_static_stability_rule_assumes(
    templates: Templates,
) -> None:
    for environment in ENVIRONMENTS:
        template = templates[environment.name]["compute"]
        tracking = [
            p["Properties"]["TargetTrackingConfiguration"]
            for p in resources(template, "AWS::AutoScaling::ScalingPolicy").values()
            if "TargetTrackingConfiguration" in p["Properties"]
        ]
        targets = [
            t["TargetValue"]
            for t in tracking
            if t.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
            == "ASGAverageCPUUtilization"
        ]
        assert targets == [FLEET_CPU_TARGET_PERCENT]


def compute_stack_warnings(synthesized: Synthesized, env: str) -> list[str]:
    """The warnings synth wrote for the compute stack of `env`: no second synth to ask for them."""
    (metadata,) = (synthesized.outdir / f"assembly-{env.capitalize()}").glob(
        "*Compute*.metadata.json"
    )
    return [
        str(entry["data"])
        for entries in json.loads(metadata.read_text()).values()
        for entry in entries
        if entry["type"] == "aws:cdk:warning"
    ]


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=[e.name for e in ENVIRONMENTS])
def test_an_environment_config_chose_not_to_survive_an_az_loss_is_not_warned_about_at_synth(
    synthesized: Synthesized, environment: EnvironmentConfig
) -> None:
    # dev: 1 instance in 2 AZs, 1 NAT gateway; allowed without autoshift, and a choice the docs
    # explain once ("Static stability"), so synth stays quiet; with autoshift it is an error.
    assert compute_stack_warnings(synthesized, environment.name) == []


def test_a_group_behind_cross_zone_off_acknowledges_the_imbalance_auto_scaling_checks(
    templates: dict[str, dict[str, Template]],
) -> None:
    # Auto Scaling refuses zonal shift on such a group without SkipZonalShiftValidation, and AWS
    # recommends balanced-only distribution for it; with cross-zone on, neither is set.
    for environment in ENVIRONMENTS:
        template = templates[environment.name]["compute"]
        (group,) = resources(template, "AWS::AutoScaling::AutoScalingGroup").values()
        (target_group,) = resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
        attributes = {
            a["Key"]: a["Value"] for a in target_group["Properties"]["TargetGroupAttributes"]
        }
        cross_zone_off = attributes["load_balancing.cross_zone.enabled"] == "false"
        properties = group["Properties"]

        assert properties.get("SkipZonalShiftValidation", False) is cross_zone_off
        distribution = properties.get("AvailabilityZoneDistribution")
        if cross_zone_off:
            assert distribution == {"CapacityDistributionStrategy": "balanced-only"}
        else:
            assert distribution is None
