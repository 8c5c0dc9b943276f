"""What pages (an outage users feel), what informs (its precursors), and the topics for each.

Every alarm evaluates one-minute periods: the load balancer publishes its metrics every 60 seconds
while requests flow, and a page that arrives five minutes late is an outage five minutes longer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib.monitoring._config import AlarmsSection

PERIOD = cdk.Duration.minutes(1)
# Fleet CPU this high although target tracking keeps it near 60%: the group is at maxCapacity or
# cannot launch. Worth a look during the day, not a page: users may not feel it yet.
CPU_ALARM_PERCENT = 85


def target_group_metric(
    load_balancer: elbv2.ApplicationLoadBalancer,
    target_group: elbv2.ApplicationTargetGroup,
    metric_name: str,
    statistic: str,
) -> cloudwatch.Metric:
    """A per-target-group metric of the load balancer (HealthyHostCount, UnHealthyHostCount)."""
    return cloudwatch.Metric(
        namespace="AWS/ApplicationELB",
        metric_name=metric_name,
        dimensions_map={
            "LoadBalancer": load_balancer.load_balancer_full_name,
            "TargetGroup": target_group.target_group_full_name,
        },
        statistic=statistic,
        period=PERIOD,
    )


def healthy_hosts(
    load_balancer: elbv2.ApplicationLoadBalancer,
    target_group: elbv2.ApplicationTargetGroup,
    zones: Sequence[str],
) -> cloudwatch.Metric | cloudwatch.MathExpression:
    """Healthy targets of the group, per minute: the worst moment of the minute (Minimum).

    Load-balancer nodes report HealthyHostCount each, and "the Minimum and Maximum statistics
    reflect the minimum and maximum values of the data points reported by the individual load
    balancer nodes" (ALB metrics). With cross-zone load balancing on, every node counts every
    target. With it off (`zones` given), a node counts only its own AZ's targets, so the
    (LoadBalancer, TargetGroup) Minimum would be one AZ's count: then each AZ's count (its
    AvailabilityZone dimension) is summed, an AZ without data counting as none.
    """
    if not zones:
        return target_group_metric(load_balancer, target_group, "HealthyHostCount", "Minimum")
    per_zone = {
        f"z{index}": cloudwatch.Metric(
            namespace="AWS/ApplicationELB",
            metric_name="HealthyHostCount",
            dimensions_map={
                "LoadBalancer": load_balancer.load_balancer_full_name,
                "TargetGroup": target_group.target_group_full_name,
                "AvailabilityZone": zone,
            },
            statistic="Minimum",
            period=PERIOD,
        )
        for index, zone in enumerate(zones)
    }
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({name}, 0)" for name in per_zone),
        using_metrics=per_zone,
        label="Healthy targets, summed over the AZs",
        period=PERIOD,
    )


def encrypted_topic(
    scope: Construct,
    construct_id: str,
    *,
    topic_name: str,
    key: kms.IKey,
    email: str | None,
    alarm_name_pattern: str,
) -> sns.Topic:
    """A topic encrypted with the environment key that this environment's alarms may publish to.

    `enforce_ssl` writes a topic policy, and a topic policy replaces SNS's default one: without
    the Allow below no alarm could publish. The key policy grants the matching
    kms:GenerateDataKey* to the same service principal (encryption.py).
    """
    topic = sns.Topic(scope, construct_id, topic_name=topic_name, master_key=key, enforce_ssl=True)
    stack = cdk.Stack.of(topic)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchAlarmsOfThisEnvironmentPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            # Confused deputy: only alarms of this account, named by this environment's convention.
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": alarm_arn(stack, alarm_name_pattern)},
            },
        )
    )
    if email:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return topic


def publish_to(alarms: Iterable[cloudwatch.AlarmBase], topic: sns.ITopic) -> None:
    """Send each alarm's ALARM and OK notifications to `topic`, once the topic lets it publish.

    The topic policy that admits cloudwatch.amazonaws.com is a resource of its own, which
    CloudFormation creates in parallel with the alarm: a Ref to the topic does not wait for it.
    HealthyHostsBelowMinimum treats missing data as breaching and so is in ALARM within minutes of
    a create; a notification sent before the policy exists is refused, and the first page is lost.
    The dependency is on the whole topic (its policy and subscriptions), so a statement or policy
    added to it later is waited for too. The KMS key that encrypts the topic needs no dependency:
    its key policy is a property of the key itself, in the security stack, deployed before this one.

    One action for every alarm: it only names the topic, and each is an object to make in jsii.
    """
    action = actions.SnsAction(topic)
    for alarm in alarms:
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        alarm.node.add_dependency(topic)


def alarm_arn(stack: cdk.Stack, alarm_name: str) -> str:
    """The ARN of the alarm named `alarm_name` (a pattern with `*` for a policy condition)."""
    return stack.format_arn(
        service="cloudwatch",
        resource="alarm",
        resource_name=alarm_name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def group_metric(
    group: autoscaling.AutoScalingGroup, namespace: str, metric_name: str, statistic: str
) -> cloudwatch.Metric:
    """A metric of the whole Auto Scaling group, per minute."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={"AutoScalingGroupName": group.auto_scaling_group_name},
        statistic=statistic,
        period=PERIOD,
    )


class WebTierAlarms(Construct):
    """Alarms on the web tier; `paging` ones go to the paging topic, `informing` ones do not."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
        group: autoscaling.AutoScalingGroup,
        paging_topic: sns.ITopic,
        informational_topic: sns.ITopic,
        thresholds: AlarmsSection,
        min_capacity: int,
        alarm_name: Callable[[str], str],
        zones_without_cross_zone: Sequence[str] = (),
    ):
        """`min_capacity`: fewer healthy hosts than this pages (HealthyHostsBelowMinimum).
        `alarm_name` turns an alarm's role (`high-cpu`) into its physical name;
        `zones_without_cross_zone`: the AZs, where the target group has cross-zone off."""
        super().__init__(scope, construct_id)
        lb_metrics = load_balancer.metrics
        self.paging: list[cloudwatch.Alarm] = [
            # The one alarm that sees a total outage: with no healthy target, RequestCount and the
            # 5xx counts may have no data at all, and UnHealthyHostCount is 0 when there are no
            # hosts. Minimum: the worst moment of the minute counts. A release keeps the desired
            # capacity in service and scale-in stops at minCapacity, so below it means lost
            # capacity. Three minutes: longer than one failed health-check cycle, far shorter than
            # a replacement's boot. Missing data is breaching: no data point is no healthy host.
            healthy_hosts(load_balancer, target_group, zones_without_cross_zone).create_alarm(
                self,
                "HealthyHostsBelowMinimum",
                alarm_name=alarm_name("healthy-hosts-below-minimum"),
                alarm_description=(f"Fewer than minCapacity ({min_capacity}) targets are healthy"),
                threshold=min_capacity,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
            # 502/503/504 made by the load balancer itself: no target answered (503 with no
            # healthy target), a target reset the connection or timed out. Counted absolutely, so
            # an outage under little traffic still pages. Two of three minutes: one bad minute is
            # a deploy's connection draining, two are users failing. Missing data is not
            # breaching: the load balancer reports this count only when it is not zero.
            lb_metrics.http_code_elb(
                elbv2.HttpCodeElb.ELB_5XX_COUNT, period=PERIOD, statistic="Sum"
            ).create_alarm(
                self,
                "LoadBalancerErrors",
                alarm_name=alarm_name("load-balancer-5xx"),
                alarm_description=(
                    "The load balancer itself answered "
                    f"{thresholds.elb_errors_per_minute} or more 5xx in a minute: "
                    "targets unreachable, failing or too slow"
                ),
                threshold=thresholds.elb_errors_per_minute,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            # Users see errors although hosts are up. Guarded by a minimum request count: one
            # error in two requests is 50% and means nothing. Three of five minutes: a burst from
            # one bad instance that the load balancer takes out of service does not page. No data
            # (no requests) is not breaching: the healthy-hosts alarm covers an idle outage.
            self._server_error_rate(lb_metrics, thresholds.minimum_requests).create_alarm(
                self,
                "ServerErrorRate",
                alarm_name=alarm_name("server-error-rate"),
                alarm_description=(
                    f"More than {thresholds.server_error_rate_percent}% of requests fail "
                    f"with 5xx while at least {thresholds.minimum_requests} arrive a minute"
                ),
                threshold=thresholds.server_error_rate_percent,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            # p99, not the average: the slowest 1% are the users who give up, and an average
            # hides them behind fast health pages. Three of five minutes, as for the error rate.
            # No data means no requests, which is not slow.
            lb_metrics.target_response_time(period=PERIOD, statistic="p99").create_alarm(
                self,
                "SlowResponses",
                alarm_name=alarm_name("target-response-time-p99"),
                alarm_description=(
                    "The slowest 1% of requests take longer than "
                    f"{thresholds.response_time_p99_seconds}s at the targets"
                ),
                threshold=thresholds.response_time_p99_seconds,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        self.informing: list[cloudwatch.Alarm] = [
            # A target failing its checks while others serve: the group replaces it by itself.
            # Maximum: any failing target in the minute. Three minutes: one is a health check
            # flapping. No data is not breaching: without hosts there is nothing to be unhealthy
            # (the healthy-hosts alarm pages for that).
            target_group_metric(
                load_balancer, target_group, "UnHealthyHostCount", "Maximum"
            ).create_alarm(
                self,
                "UnhealthyHosts",
                alarm_name=alarm_name("unhealthy-hosts"),
                alarm_description="At least one target is failing its health check",
                threshold=0,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            # Average over the group: scaling reacts to the same number. Eight of ten minutes:
            # target tracking needs a few minutes to add an instance; only sustained saturation
            # is news. Missing data stays missing: a group without instances is an outage the
            # healthy-hosts alarm reports, not a CPU problem.
            group_metric(group, "AWS/EC2", "CPUUtilization", "Average").create_alarm(
                self,
                "HighCpu",
                alarm_name=alarm_name("high-cpu"),
                alarm_description=f"Fleet CPU above {CPU_ALARM_PERCENT}% although it scales out",
                threshold=CPU_ALARM_PERCENT,
                evaluation_periods=10,
                datapoints_to_alarm=8,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.MISSING,
            ),
        ]
        # The healthy-hosts page treats missing data as breaching, and a first create has minutes
        # without data (the target group has no listener yet); that alarm could still be in
        # ALARM when the next deploy starts and would fail a release for nothing it did. This
        # twin gates releases only: same metric, threshold and window, but missing data is
        # missing (a gate in INSUFFICIENT_DATA lets a release through; only ALARM stops it).
        # A fleet with no healthy target still reports HealthyHostCount 0, which breaches. It
        # pages nobody (its twin does); it informs, so the informational topic says why a
        # release rolled back.
        self.release_healthy_hosts = healthy_hosts(
            load_balancer, target_group, zones_without_cross_zone
        ).create_alarm(
            self,
            "ReleaseHealthyHostsBelowMinimum",
            alarm_name=alarm_name("release-healthy-hosts-below-minimum"),
            alarm_description=(
                f"Release gate: fewer than minCapacity ({min_capacity}) targets are "
                "healthy (missing data is not breaching)"
            ),
            threshold=min_capacity,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.MISSING,
        )
        publish_to(self.paging, paging_topic)
        publish_to([*self.informing, self.release_healthy_hosts], informational_topic)

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        return [*self.paging, *self.informing, self.release_healthy_hosts]

    @property
    def release_gate(self) -> list[cloudwatch.Alarm]:
        """The alarms that roll a release back: every page, healthy hosts through its twin."""
        paging = [a for a in self.paging if a.node.id != "HealthyHostsBelowMinimum"]
        return [self.release_healthy_hosts, *paging]

    @staticmethod
    def _server_error_rate(
        lb_metrics: elbv2.IApplicationLoadBalancerMetrics, minimum: int
    ) -> cloudwatch.MathExpression:
        # Below the minimum count of answered requests the rate is reported as 0, so that a
        # quiet minute never pages.
        counts = {
            key: lb_metrics.custom(metric, period=PERIOD, statistic="Sum")
            for key, metric in RESPONSE_COUNTS.items()
        }
        answered, failed = response_sums()
        return cloudwatch.MathExpression(
            expression=f"IF({answered} >= {minimum}, 100 * ({failed}) / ({answered}), 0)",
            using_metrics=dict(counts),
            label="5xx responses, % of answered requests",
            period=PERIOD,
        )


# Every request the load balancer answers is counted once, either by the target that answered
# it (HTTPCode_Target_*) or by the load balancer itself (HTTPCode_ELB_*: 503 with no healthy
# target, 502/504 when the chosen target failed). RequestCount would be the wrong denominator:
# per the ALB metric reference it counts only requests for which the load balancer node could
# choose a target, so requests rejected before that are in HTTPCode_ELB_5XX_Count but not in
# RequestCount (which the reference also describes as "processed over IPv4 and IPv6"), and a
# rate over it can exceed 100 % and under-report an outage of every target. The 5xx rate is
# therefore failed / answered over these counts, whose failed part is a subset of its answered
# part: at most 100 % by construction. ELB 3xx (the HTTP listener's redirects) and ELB 4xx
# (malformed requests, clients that went away) are left out of both: they are not requests the
# tier was asked to serve. Each has the AvailabilityZone dimension too, so the per-AZ rate
# (constructs_lib/monitoring/_zonal.py) is the same formula.
RESPONSE_COUNTS = {
    "t2": "HTTPCode_Target_2XX_Count",
    "t3": "HTTPCode_Target_3XX_Count",
    "t4": "HTTPCode_Target_4XX_Count",
    "t5": "HTTPCode_Target_5XX_Count",
    "e5": "HTTPCode_ELB_5XX_Count",
}
FAILED_COUNTS = ("t5", "e5")


def response_sums(prefix: str = "") -> tuple[str, str]:
    """(answered, failed) as metric-math sums over RESPONSE_COUNTS with ids `prefix + key`.

    FILL: a count with no error has no data point in that minute, which is 0.
    """
    answered = " + ".join(f"FILL({prefix}{key}, 0)" for key in RESPONSE_COUNTS)
    failed = " + ".join(f"FILL({prefix}{key}, 0)" for key in FAILED_COUNTS)
    return answered, failed
