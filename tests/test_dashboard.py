"""The per-environment dashboard: named by the convention, each widget's metrics, every alarm."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.template_utils import only, resources

Templates = dict[str, dict[str, Template]]
ELB = "AWS/ApplicationELB"
# Widget title -> the (namespace, metric, statistic) lines it draws; SEARCH lines by expression.
WIDGETS: dict[str, list[tuple[str, str, str]]] = {
    "Requests": [(ELB, "RequestCount", "Sum")],
    "5xx responses": [
        (ELB, "HTTPCode_ELB_5XX_Count", "Sum"),
        (ELB, "HTTPCode_Target_5XX_Count", "Sum"),
    ],
    "Target response time (s)": [
        (ELB, "TargetResponseTime", "p50"),
        (ELB, "TargetResponseTime", "p99"),
    ],
    "Instances": [
        ("AWS/AutoScaling", "GroupInServiceInstances", "Average"),
        ("AWS/AutoScaling", "GroupDesiredCapacity", "Average"),
    ],
    "CPU (%)": [("AWS/EC2", "CPUUtilization", "Average")],
    "Memory and disk use (%), worst instance": [
        ("webapp/prod/instances", "mem_used_percent", "Maximum"),
        ("webapp/prod/instances", "disk_used_percent", "Maximum"),
    ],
    # The per-AZ row: one line per AZ of prod.
    "Requests by AZ": [(ELB, "RequestCount", "Sum")] * 3,
    "Target response time p99 by AZ (s)": [(ELB, "TargetResponseTime", "p99")] * 3,
    "Healthy hosts by AZ": [(ELB, "HealthyHostCount", "Minimum")] * 3,
    "NAT gateways: errors and drops": [
        ("AWS/NATGateway", "ErrorPortAllocation", "Sum"),
        ("AWS/NATGateway", "PacketsDropCount", "Sum"),
    ],
}


def placeholder(token: dict[str, Any]) -> str:
    """A readable stand-in for an intrinsic inside the dashboard body."""
    if "Ref" in token:
        return f"<{token['Ref']}>"
    if "Fn::GetAtt" in token:
        return f"<{token['Fn::GetAtt'][0]}.{token['Fn::GetAtt'][1]}>"
    return "<derived>"


def dashboard_body(template: Template) -> dict[str, Any]:
    _, dashboard = only(template, "AWS::CloudWatch::Dashboard")
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, dict):
        separator, parts = body["Fn::Join"]
        body = separator.join(p if isinstance(p, str) else placeholder(p) for p in parts)
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def lines(widget: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(namespace, metric, statistic) of each line; a SEARCH line by what it searches."""
    found = []
    for line in widget["properties"]["metrics"]:
        options = line[-1] if isinstance(line[-1], dict) else {}
        if "expression" in options:
            expression = options["expression"]
            namespace = expression.split("{")[1].split(",")[0]
            metric = expression.split('MetricName="')[1].split('"')[0]
            found.append((namespace, metric, expression.split("', '")[1].split("'")[0]))
        else:
            found.append((line[0], line[1], options.get("stat", "Average")))
    return found


@pytest.fixture(scope="module")
def body(prod: dict[str, Template]) -> dict[str, Any]:
    return dashboard_body(prod["compute"])


def widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    (found,) = (w for w in body["widgets"] if w["properties"].get("title") == title)
    return dict(found)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_each_environment_has_one_dashboard_named_by_the_convention(
    templates: Templates, env: str
) -> None:
    _, dashboard = only(templates[env]["compute"], "AWS::CloudWatch::Dashboard")

    assert dashboard["Properties"]["DashboardName"] == f"{env}-webapp-compute-dashboard"


@pytest.mark.parametrize("title", sorted(WIDGETS))
def test_widget_draws_its_metrics(body: dict[str, Any], title: str) -> None:
    assert lines(widget(body, title)) == WIDGETS[title]


def test_dashboard_has_exactly_these_graphs_and_one_alarm_status_widget(
    body: dict[str, Any],
) -> None:
    titles = sorted(w["properties"]["title"] for w in body["widgets"] if w["type"] == "metric")

    assert titles == sorted([*WIDGETS, ZONAL_ERROR_RATE, HEALTHY_HOSTS])
    assert [w["type"] for w in body["widgets"]].count("alarm") == 1


def test_alarm_status_widget_shows_every_alarm_of_the_stack(
    prod: dict[str, Template], body: dict[str, Any]
) -> None:
    (status,) = (w for w in body["widgets"] if w["type"] == "alarm")
    logical_ids = [
        logical_id
        for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for logical_id in resources(prod["compute"], kind)
    ]

    # 7 of the whole tier (4 that page, 2 that inform, the release gate's twin of healthy hosts),
    # 5 per AZ (4 and its composite), the 2 practice-run composites.
    assert len(logical_ids) == 7 + 5 * 3 + 2
    # Each by its own ARN attribute, so the dashboard follows an alarm that is renamed or replaced.
    assert sorted(status["properties"]["alarms"]) == sorted(
        f"<{logical_id}.Arn>" for logical_id in logical_ids
    )


def test_graphs_of_the_fleet_and_the_load_balancer_name_this_environments_resources(
    prod: dict[str, Template], body: dict[str, Any]
) -> None:
    group_id, _ = only(prod["compute"], "AWS::AutoScaling::AutoScalingGroup")
    (cpu,) = widget(body, "CPU (%)")["properties"]["metrics"]
    (requests,) = widget(body, "Requests")["properties"]["metrics"]

    assert cpu[2:4] == ["AutoScalingGroupName", f"<{group_id}>"]
    assert requests[2] == "LoadBalancer"


def test_output_is_the_console_url_of_the_dashboard(prod: dict[str, Template]) -> None:
    url = prod["compute"].find_outputs("DashboardUrl")["DashboardUrl"]["Value"]

    assert url == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#dashboards/dashboard/prod-webapp-compute-dashboard"
    )


ZONAL_ERROR_RATE = "5xx % of answered requests by AZ"
HEALTHY_HOSTS = "Healthy hosts"


def test_healthy_hosts_are_drawn_as_the_alarms_count_them_summed_over_every_az(
    body: dict[str, Any],
) -> None:
    # prod's target group has cross-zone off: a node counts only its own AZ's targets, so the
    # graph sums each AZ's count, as the healthy-hosts page does (tests/test_compute.py).
    metrics = widget(body, HEALTHY_HOSTS)["properties"]["metrics"]
    (expression,) = (m[0] for m in metrics if isinstance(m[0], dict))
    drawn = [m for m in metrics if not isinstance(m[0], dict)]
    per_zone = [m for m in drawn if m[-1].get("visible") is False]

    assert expression["expression"] == "FILL(z0, 0) + FILL(z1, 0) + FILL(z2, 0)"
    assert sorted(m[-1]["id"] for m in per_zone) == ["z0", "z1", "z2"]
    assert {(m[0], m[1], m[-1]["stat"]) for m in per_zone} == {(ELB, "HealthyHostCount", "Minimum")}
    assert sorted(m[m.index("AvailabilityZone") + 1] for m in per_zone) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    assert [(m[0], m[1], m[-1]["stat"]) for m in drawn if m not in per_zone] == [
        (ELB, "UnHealthyHostCount", "Maximum")
    ]


def test_per_az_row_draws_each_azs_error_rate_over_its_answered_requests(
    body: dict[str, Any],
) -> None:
    lines = widget(body, ZONAL_ERROR_RATE)["properties"]["metrics"]
    shown = [line[-1] for line in lines if "expression" in line[-1]]
    hidden = [line for line in lines if "expression" not in line[-1]]

    assert [line["label"] for line in shown] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all("100 * (FILL(" in line["expression"] for line in shown)
    # 5 response counts per AZ, each with that AZ's dimension.
    assert len(hidden) == 15
    assert {line[1] for line in hidden} == {
        "HTTPCode_Target_2XX_Count",
        "HTTPCode_Target_3XX_Count",
        "HTTPCode_Target_4XX_Count",
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_ELB_5XX_Count",
    }
    assert all("AvailabilityZone" in line for line in hidden)


def test_healthy_hosts_by_az_are_the_target_groups_per_az_counts(body: dict[str, Any]) -> None:
    # HealthyHostCount exists only per target group; a line without it has no data.
    per_az = [
        dimensions(line) for line in widget(body, "Healthy hosts by AZ")["properties"]["metrics"]
    ]

    assert [sorted(d) for d in per_az] == [["AvailabilityZone", "LoadBalancer", "TargetGroup"]] * 3
    assert sorted(d["AvailabilityZone"] for d in per_az) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]


def dimensions(line: list[Any]) -> dict[str, Any]:
    """A metric line's dimensions: the name/value pairs between the metric name and the options."""
    pairs = [part for part in line[2:] if not isinstance(part, dict)]
    return dict(zip(pairs[::2], pairs[1::2], strict=True))
