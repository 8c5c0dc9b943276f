"""One CloudWatch dashboard per environment: what on-call opens first when an alarm arrives."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from constructs_lib.monitoring._alarms import (
    PERIOD,
    group_metric,
    healthy_hosts,
    target_group_metric,
)
from constructs_lib.monitoring._config import AlarmsSection

WIDTH = 8  # three graphs per row of 24 columns
HEIGHT = 6


def _nat_gateways(metric_name: str) -> cloudwatch.MathExpression:
    # Every NAT gateway of the account and region: an environment owns its account, and the NAT
    # gateway IDs live in the network stack (naming them here would export each one).
    return cloudwatch.MathExpression(
        expression=(
            f"SEARCH('{{AWS/NATGateway,NatGatewayId}} MetricName=\"{metric_name}\"', 'Sum', 60)"
        ),
        using_metrics={},
        label=metric_name,
        period=PERIOD,
    )


class WebTierDashboard(Construct):
    """Traffic, errors, latency, hosts, instances, CPU, memory, disk, NAT and every alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
        group: autoscaling.AutoScalingGroup,
        alarms: list[cloudwatch.AlarmBase],
        thresholds: AlarmsSection,
        min_capacity: int,
        dashboard_name: str,
        agent_metric_namespace: str,
        zones_without_cross_zone: Sequence[str] = (),
        zone_row: Sequence[cloudwatch.IWidget] = (),
    ):
        """`zones_without_cross_zone` as for WebTierAlarms; `zone_row`: a last row (per AZ)."""
        super().__init__(scope, construct_id)
        lb = load_balancer.metrics

        def graph(
            title: str,
            *metrics: cloudwatch.IMetric,
            left_annotations: list[cloudwatch.HorizontalAnnotation] | None = None,
        ) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title,
                left=list(metrics),
                left_annotations=left_annotations,
                width=WIDTH,
                height=HEIGHT,
            )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=cdk.Duration.hours(3),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=alarms, width=24, height=3),
        )
        self.dashboard.add_widgets(
            graph("Requests", lb.request_count(period=PERIOD, statistic="Sum")),
            graph(
                "5xx responses",
                lb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=PERIOD, statistic="Sum"),
                lb.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD, statistic="Sum"
                ),
            ),
            graph(
                "Target response time (s)",
                lb.target_response_time(period=PERIOD, statistic="p50"),
                lb.target_response_time(period=PERIOD, statistic="p99"),
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=thresholds.response_time_p99_seconds, label="p99 alarm"
                    )
                ],
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Healthy hosts",
                # As the healthy-hosts alarms count them (summed per AZ where cross-zone is off).
                healthy_hosts(load_balancer, target_group, zones_without_cross_zone),
                target_group_metric(load_balancer, target_group, "UnHealthyHostCount", "Maximum"),
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=min_capacity, label="minCapacity")
                ],
            ),
            graph(
                "Instances",
                group_metric(group, "AWS/AutoScaling", "GroupInServiceInstances", "Average"),
                group_metric(group, "AWS/AutoScaling", "GroupDesiredCapacity", "Average"),
            ),
            graph("CPU (%)", group_metric(group, "AWS/EC2", "CPUUtilization", "Average")),
        )
        self.dashboard.add_widgets(
            graph(
                "Memory and disk use (%), worst instance",
                cloudwatch.Metric(
                    namespace=agent_metric_namespace,
                    metric_name="mem_used_percent",
                    statistic="Maximum",
                    period=PERIOD,
                ),
                cloudwatch.Metric(
                    namespace=agent_metric_namespace,
                    metric_name="disk_used_percent",
                    statistic="Maximum",
                    period=PERIOD,
                ),
            ),
            graph(
                "NAT gateways: errors and drops",
                _nat_gateways("ErrorPortAllocation"),
                _nat_gateways("PacketsDropCount"),
            ),
        )
        if zone_row:
            self.dashboard.add_widgets(*zone_row)
        stack = cdk.Stack.of(self)
        self.url = (
            f"https://{stack.region}.console.aws.amazon.com/cloudwatch/home?region={stack.region}"
            f"#dashboards/dashboard/{dashboard_name}"
        )
