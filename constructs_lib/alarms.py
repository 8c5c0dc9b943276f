"""Alarms on what users feel (5xx), what precedes it (unhealthy hosts) and saturation (CPU)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from constructs import Construct

SERVER_ERROR_RATE_PERCENT = 5
CPU_ALARM_PERCENT = 85
PERIOD = cdk.Duration.minutes(1)


class WebTierAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
        group: autoscaling.AutoScalingGroup,
        topic: sns.ITopic,
    ):
        super().__init__(scope, construct_id)
        lb_metrics = load_balancer.metrics
        error_rate = cloudwatch.MathExpression(
            expression="100 * (FILL(elb, 0) + FILL(target, 0)) / requests",
            using_metrics={
                "elb": lb_metrics.http_code_elb(
                    elbv2.HttpCodeElb.ELB_5XX_COUNT, period=PERIOD, statistic="Sum"
                ),
                "target": lb_metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD, statistic="Sum"
                ),
                "requests": lb_metrics.request_count(period=PERIOD, statistic="Sum"),
            },
            label="5xx responses, % of requests",
            period=PERIOD,
        )
        cpu = cloudwatch.Metric(
            namespace="AWS/EC2",
            metric_name="CPUUtilization",
            dimensions_map={"AutoScalingGroupName": group.auto_scaling_group_name},
            statistic="Average",
            period=PERIOD,
        )
        alarms = [
            error_rate.create_alarm(
                self,
                "ServerErrorRate",
                alarm_description=f"More than {SERVER_ERROR_RATE_PERCENT}% of requests fail 5xx",
                threshold=SERVER_ERROR_RATE_PERCENT,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            target_group.metrics.unhealthy_host_count(
                period=PERIOD, statistic="Maximum"
            ).create_alarm(
                self,
                "UnhealthyHosts",
                alarm_description="At least one target is failing its health check",
                threshold=0,
                evaluation_periods=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cpu.create_alarm(
                self,
                "HighCpu",
                alarm_description=f"Fleet CPU above {CPU_ALARM_PERCENT}% although it scales out",
                threshold=CPU_ALARM_PERCENT,
                evaluation_periods=10,
                datapoints_to_alarm=8,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(actions.SnsAction(topic))
            alarm.add_ok_action(actions.SnsAction(topic))
