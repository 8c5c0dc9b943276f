"""Survive a bad Availability Zone: see it per AZ, shift away from it, and practise the shift.

Detection: for each AZ, alarms on the load balancer's metrics with the `AvailabilityZone`
dimension (the 5xx rate, p99 latency, and two outlier rules that compare this AZ with the others,
so that a regional problem does not look zonal), and one composite "AZ impaired" alarm per AZ
that pages. Evacuation: ARC zonal shift on the load balancer and the Auto Scaling group.
Practice: in environments with zonal autoshift (prod by default), the autoshift configuration
whose weekly practice runs end on the tier's paging alarms and never start while an AZ is
impaired or the tier already pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_cdk import aws_arczonalshift as arczonalshift
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.compliance import accept, decisions
from constructs_lib.monitoring._alarms import PERIOD, RESPONSE_COUNTS, publish_to, response_sums
from constructs_lib.monitoring._config import AutoshiftSection, ZonalAlarmsSection

NAMESPACE = "AWS/ApplicationELB"
# Three of five one-minute periods, as the regional error-rate and latency alarms: one bad minute
# is a deploy draining connections, three are an AZ failing its users.
EVALUATION_PERIODS = 5
DATAPOINTS_TO_ALARM = 3
# AWS::ARCZonalShift::ZonalAutoshiftConfiguration (CloudFormation schema, as shipped in cfn-lint
# 1.58): OutcomeAlarms and BlockingAlarms take exactly one ControlCondition each, of type
# CLOUDWATCH. Each is therefore one composite alarm over the alarms it stands for.
CONTROL_CONDITION_TYPE = "CLOUDWATCH"
# ASG zonal shift (Amazon EC2 Auto Scaling User Guide): with "Ignore unhealthy", "instances will
# not be replaced in the Availability Zone with the active zonal shift"; with "Replace unhealthy",
# "instances that appear unhealthy will be replaced in all Availability Zones". Ignore: in an
# impaired AZ an instance fails its load-balancer check because of the zone, not of itself;
# replacing it churns terminations through the impaired zone and, once the shift ends, AZ
# rebalancing moves the capacity back again. The AZs that remain already hold enough instances
# (config: lost_az_problems, an error where autoshift is on), and during a shift "Auto Scaling
# will launch all new capacity requests in the healthy Availability Zones" and blocks scale-in.
IMPAIRED_ZONE_HEALTH_CHECK_BEHAVIOR = "IgnoreUnhealthy"


class ZonalMetrics:
    """The load balancer's metrics by AZ, each made once: every AZ's alarms and the dashboard row
    share them.

    A metric is an object in jsii's Node.js process, a round trip to make; made for each use, an
    environment of three AZs made 81 metrics, of which 29 differ.
    """

    def __init__(
        self,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
    ) -> None:
        self._load_balancer_full_name = load_balancer.load_balancer_full_name
        self._target_group_full_name = target_group.target_group_full_name
        self._made: dict[tuple[str, str, str | None, bool], cloudwatch.Metric] = {}

    def metric(
        self,
        metric_name: str,
        statistic: str,
        availability_zone: str | None,
        *,
        of_target_group: bool = False,
    ) -> cloudwatch.Metric:
        """A load-balancer metric of one AZ (`AvailabilityZone`), or of all of them (None); of
        its target group (`TargetGroup`) with `of_target_group`."""
        key = (metric_name, statistic, availability_zone, of_target_group)
        if key not in self._made:
            dimensions = {"LoadBalancer": self._load_balancer_full_name}
            if of_target_group:
                dimensions["TargetGroup"] = self._target_group_full_name
            if availability_zone is not None:
                dimensions["AvailabilityZone"] = availability_zone
            self._made[key] = cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=metric_name,
                dimensions_map=dimensions,
                statistic=statistic,
                period=PERIOD,
            )
        return self._made[key]


def _counts(
    metrics: ZonalMetrics, availability_zone: str | None, prefix: str
) -> dict[str, cloudwatch.IMetric]:
    return {
        f"{prefix}{key}": metrics.metric(name, "Sum", availability_zone)
        for key, name in RESPONSE_COUNTS.items()
    }


def zonal_error_rate(
    metrics: ZonalMetrics,
    availability_zone: str,
    minimum: int,
    prefix: str = "",
) -> cloudwatch.MathExpression:
    """5xx responses in % of answered requests in one AZ; 0 below `minimum` answered.

    `prefix` keeps the ids of several AZs' counts apart in one graph.
    """
    answered, failed = response_sums(prefix)
    return cloudwatch.MathExpression(
        expression=f"IF({answered} >= {minimum}, 100 * ({failed}) / ({answered}), 0)",
        using_metrics=_counts(metrics, availability_zone, prefix),
        label=f"{availability_zone} 5xx %",
        period=PERIOD,
    )


def _error_outlier(
    metrics: ZonalMetrics, availability_zone: str, minimum: int
) -> cloudwatch.MathExpression:
    # This AZ's rate minus the rate of every other AZ together (the whole load balancer minus
    # this AZ): a regional failure raises both and the difference stays near 0. Ten metrics, the
    # most an alarm on metric math may reference. The others' rate divides by at least 1: with no
    # traffic elsewhere (another AZ shifted away, say) it is 0, not a division by zero.
    mine, mine_failed = response_sums("m")
    every, every_failed = response_sums("a")
    others, others_failed = f"({every}) - ({mine})", f"({every_failed}) - ({mine_failed})"
    others_rate = f"100 * ({others_failed}) / (({others}) + (({others}) <= 0))"
    return cloudwatch.MathExpression(
        expression=(
            f"IF({mine} >= {minimum}, 100 * ({mine_failed}) / ({mine}) - {others_rate}, 0)"
        ),
        using_metrics={
            **_counts(metrics, availability_zone, "m"),
            **_counts(metrics, None, "a"),
        },
        label=f"{availability_zone} 5xx % minus the other AZs'",
        period=PERIOD,
    )


def _latency_outlier(
    metrics: ZonalMetrics,
    availability_zone: str,
    others: Sequence[str],
    slow_seconds: float,
) -> cloudwatch.MathExpression:
    # The slowest other AZ, not the whole load balancer: a slow third of the traffic drags the
    # load balancer's own p99 up to its own. Counted only once this AZ is slow in absolute
    # terms, so that 4 ms against 2 ms at night is not an outlier.
    other_ids = [f"o{index}" for index in range(len(others))]
    return cloudwatch.MathExpression(
        expression=f"IF(mine > {slow_seconds}, mine / MAX([{', '.join(other_ids)}]), 0)",
        using_metrics={
            "mine": metrics.metric("TargetResponseTime", "p99", availability_zone),
            **{
                other_id: metrics.metric("TargetResponseTime", "p99", other)
                for other_id, other in zip(other_ids, others, strict=True)
            },
        },
        label=f"{availability_zone} p99 / slowest other AZ's p99",
        period=PERIOD,
    )


@dataclass(frozen=True)
class ZoneAlarms:
    """One AZ's alarm set: what it watches, and the composite that pages."""

    availability_zone: str
    error_rate: cloudwatch.Alarm
    slow_responses: cloudwatch.Alarm
    error_outlier: cloudwatch.Alarm
    latency_outlier: cloudwatch.Alarm
    impaired: cloudwatch.CompositeAlarm

    @property
    def parts(self) -> list[cloudwatch.AlarmBase]:
        """What the composite combines."""
        return [self.error_rate, self.slow_responses, self.error_outlier, self.latency_outlier]

    @property
    def alarms(self) -> list[cloudwatch.AlarmBase]:
        return [*self.parts, self.impaired]


class ZonalResilience(Construct):
    """Per-AZ alarms, the composite "AZ impaired" pages, and zonal autoshift where it is on."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
        availability_zones: Sequence[str],
        thresholds: ZonalAlarmsSection,
        paging_topic: sns.ITopic,
        informational_topic: sns.ITopic,
        alarm_name: Callable[[str], str],
        outcome_alarms: Sequence[cloudwatch.IAlarm],
        practice_runs: AutoshiftSection | None,
    ):
        """`outcome_alarms`: the tier's paging alarms; `practice_runs`: None without autoshift."""
        super().__init__(scope, construct_id)
        self._load_balancer = load_balancer
        self._metrics = ZonalMetrics(load_balancer, target_group)
        self.availability_zones = tuple(availability_zones)
        self.zones = [self._zone(az, thresholds, alarm_name) for az in self.availability_zones]
        # Each part informs: what makes the composite page is the combination.
        publish_to([part for zone in self.zones for part in zone.parts], informational_topic)
        publish_to([zone.impaired for zone in self.zones], paging_topic)
        self.autoshift: arczonalshift.CfnZonalAutoshiftConfiguration | None = None
        self.practice_run_alarms: list[cloudwatch.CompositeAlarm] = []
        if practice_runs is not None:
            self.autoshift = self._autoshift(practice_runs, alarm_name, outcome_alarms)

    @property
    def alarms(self) -> list[cloudwatch.AlarmBase]:
        return [*(a for zone in self.zones for a in zone.alarms), *self.practice_run_alarms]

    def _zone(
        self,
        az: str,
        thresholds: ZonalAlarmsSection,
        alarm_name: Callable[[str], str],
    ) -> ZoneAlarms:
        metrics = self._metrics
        others = [other for other in self.availability_zones if other != az]

        def alarm(
            construct_id: str,
            metric: cloudwatch.Metric | cloudwatch.MathExpression,
            role: str,
            threshold: float,
            about: str,
        ) -> cloudwatch.Alarm:
            return metric.create_alarm(
                self,
                f"{construct_id}{_id(az)}",
                alarm_name=alarm_name(f"az-{az}-{role}"),
                alarm_description=f"{az}: {about}",
                threshold=threshold,
                evaluation_periods=EVALUATION_PERIODS,
                datapoints_to_alarm=DATAPOINTS_TO_ALARM,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                # No data: no requests in this AZ, which is not an impairment (a zonal shift
                # empties it on purpose). HealthyHostsBelowMinimum sees an AZ that lost its hosts.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        error_rate = alarm(
            "ErrorRate",
            zonal_error_rate(metrics, az, thresholds.minimum_requests),
            "server-error-rate",
            thresholds.server_error_rate_percent,
            f"more than {thresholds.server_error_rate_percent}% of answered requests get a 5xx "
            f"while at least {thresholds.minimum_requests} a minute are answered",
        )
        slow_responses = alarm(
            "SlowResponses",
            metrics.metric("TargetResponseTime", "p99", az),
            "target-response-time-p99",
            thresholds.response_time_p99_seconds,
            f"the slowest 1% of requests take longer than {thresholds.response_time_p99_seconds}s",
        )
        error_outlier = alarm(
            "ErrorOutlier",
            _error_outlier(metrics, az, thresholds.minimum_requests),
            "error-outlier",
            thresholds.error_outlier_points,
            f"the 5xx rate is more than {thresholds.error_outlier_points} percentage points above "
            "that of the other AZs together",
        )
        latency_outlier = alarm(
            "LatencyOutlier",
            _latency_outlier(metrics, az, others, thresholds.response_time_p99_seconds),
            "latency-outlier",
            thresholds.latency_outlier_ratio,
            f"p99 above {thresholds.response_time_p99_seconds}s and more than "
            f"{thresholds.latency_outlier_ratio} times the slowest other AZ's",
        )
        # Bad in absolute terms AND worse than the rest: a regional failure (a bad release, a
        # dependency down) trips the absolute alarms in every AZ but no outlier, and pages through
        # the regional alarms instead; a zonal one pages here, naming the AZ to shift away from.
        rule = cloudwatch.AlarmRule.any_of(
            cloudwatch.AlarmRule.all_of(error_rate, error_outlier),
            cloudwatch.AlarmRule.all_of(slow_responses, latency_outlier),
        )
        impaired = cloudwatch.CompositeAlarm(
            self,
            f"Impaired{_id(az)}",
            composite_alarm_name=alarm_name(f"az-{az}-impaired"),
            alarm_description=(
                f"{az} is impaired: its errors or latency are bad and well above the other AZs'. "
                "Runbook: README, On call, 'An AZ is impaired' (start a zonal shift away from it)"
            ),
            alarm_rule=rule,
        )
        return ZoneAlarms(az, error_rate, slow_responses, error_outlier, latency_outlier, impaired)

    def _autoshift(
        self,
        practice_runs: AutoshiftSection,
        alarm_name: Callable[[str], str],
        outcome_alarms: Sequence[cloudwatch.IAlarm],
    ) -> arczonalshift.CfnZonalAutoshiftConfiguration:
        # Outcome: "alarms that you specify that end a practice run when one or more of the
        # alarms is in an ALARM state" (ARC API reference): the tier's own paging alarms, so that
        # a practice run that hurts users ends at once and is reported as failed.
        outcome = cloudwatch.CompositeAlarm(
            self,
            "PracticeRunOutcome",
            composite_alarm_name=alarm_name("practice-run-outcome"),
            alarm_description=(
                "ARC practice runs end when this is in ALARM: any of the tier's paging alarms"
            ),
            alarm_rule=cloudwatch.AlarmRule.any_of(*outcome_alarms),
        )
        # Blocking: no practice run while an AZ is impaired (a real event: autoshift acts on
        # AWS's own telemetry, not on these alarms) or while the tier already pages.
        blocker = cloudwatch.CompositeAlarm(
            self,
            "PracticeRunBlocker",
            composite_alarm_name=alarm_name("practice-run-blocker"),
            alarm_description=(
                "ARC starts no practice run while this is in ALARM: an AZ is impaired or the "
                "tier pages"
            ),
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *(zone.impaired for zone in self.zones), outcome
            ),
        )
        self.practice_run_alarms = [outcome, blocker]

        def condition(
            alarm: cloudwatch.CompositeAlarm,
        ) -> arczonalshift.CfnZonalAutoshiftConfiguration.ControlConditionProperty:
            return arczonalshift.CfnZonalAutoshiftConfiguration.ControlConditionProperty(
                type=CONTROL_CONDITION_TYPE, alarm_identifier=alarm.alarm_arn
            )

        return arczonalshift.CfnZonalAutoshiftConfiguration(
            self,
            "Autoshift",
            resource_identifier=self._load_balancer.load_balancer_arn,
            # "When zonal autoshift is ENABLED, you authorize AWS to shift away resource traffic
            # for an application from an Availability Zone during events, on your behalf" (the
            # resource's CloudFormation reference); ENABLED is the only value its schema takes.
            zonal_autoshift_status="ENABLED",
            practice_run_configuration=(
                arczonalshift.CfnZonalAutoshiftConfiguration.PracticeRunConfigurationProperty(
                    outcome_alarms=[condition(outcome)],
                    blocking_alarms=[condition(blocker)],
                    blocked_windows=list(practice_runs.practice_run_blocked_windows) or None,
                    blocked_dates=list(practice_runs.practice_run_blocked_dates) or None,
                )
            ),
        )

    def dashboard_row(self) -> list[cloudwatch.IWidget]:
        """Requests, 5xx rate, p99 and healthy hosts, one line per AZ."""
        metrics, azs = self._metrics, self.availability_zones
        width = 24 // 4

        def graph(title: str, lines: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=lines, width=width, height=6)

        return [
            graph(
                "Requests by AZ",
                [metrics.metric("RequestCount", "Sum", az).with_(label=az) for az in azs],
            ),
            graph(
                "5xx % of answered requests by AZ",
                # Minimum 1: the dashboard shows every minute that had any traffic.
                [
                    zonal_error_rate(metrics, az, 1, prefix=f"z{index}").with_(label=az)
                    for index, az in enumerate(azs)
                ],
            ),
            graph(
                "Target response time p99 by AZ (s)",
                [metrics.metric("TargetResponseTime", "p99", az).with_(label=az) for az in azs],
            ),
            graph(
                "Healthy hosts by AZ",
                [
                    metrics.metric("HealthyHostCount", "Minimum", az, of_target_group=True).with_(
                        label=az
                    )
                    for az in azs
                ],
            ),
        ]


def enable_zonal_shift(
    *,
    load_balancer: elbv2.ApplicationLoadBalancer,
    target_group: elbv2.ApplicationTargetGroup,
    group: autoscaling.AutoScalingGroup,
    cross_zone: bool,
) -> None:
    """ARC zonal shift on the load balancer and the group; cross-zone load balancing set.

    "Zonal shift is disabled by default and must be enabled on each Application Load Balancer"
    (Elastic Load Balancing User Guide): the attribute `zonal_shift.config.enabled`.

    Cross-zone: "With Application Load Balancers, cross-zone load balancing is always turned on
    at the load balancer level, and cannot be turned off. For target groups, the default is to
    use the load balancer setting, but you can override the default by explicitly turning
    cross-zone load balancing off at the target group level." Off (`cross_zone=False`), each AZ's
    load balancer node sends only to the targets of its own AZ: the per-AZ metrics then describe
    one AZ end to end (its node and its instances). On, a bad AZ's instances would be reached from
    every node and their errors spread evenly over every AZ's metrics, where no outlier rule can
    see them. (A zonal shift takes the AZ out either way: "all traffic to targets is blocked in
    the availability zone being impacted".) Off needs an instance in every AZ at all times, so
    the stack keeps it on where the floor cannot put one there.

    With cross-zone off, Auto Scaling refuses zonal shift on the group unless told the capacity
    imbalance it may cause is understood ("you can acknowledge this possibility by ... using the
    skip-zonal-shift-validation flag", EC2 Auto Scaling User Guide, zonal shift), and AWS
    recommends "balanced only" Availability Zone distribution for such groups: a launch that
    cannot go to its AZ fails rather than pile into another AZ whose node cannot send to it.
    """
    load_balancer.set_attribute("zonal_shift.config.enabled", "true")
    target_group.set_attribute(
        "load_balancing.cross_zone.enabled", "true" if cross_zone else "false"
    )
    resource = group.node.default_child
    assert isinstance(resource, autoscaling.CfnAutoScalingGroup)
    if not cross_zone:
        accept(target_group, decisions.CROSS_ZONE_OFF)
        resource.skip_zonal_shift_validation = True
        resource.availability_zone_distribution = (
            autoscaling.CfnAutoScalingGroup.AvailabilityZoneDistributionProperty(
                capacity_distribution_strategy="balanced-only"
            )
        )
    resource.availability_zone_impairment_policy = (
        autoscaling.CfnAutoScalingGroup.AvailabilityZoneImpairmentPolicyProperty(
            zonal_shift_enabled=True,
            impaired_zone_health_check_behavior=IMPAIRED_ZONE_HEALTH_CHECK_BEHAVIOR,
        )
    )


def _id(availability_zone: str) -> str:
    """`us-east-1a` -> `UsEast1a`, for construct IDs."""
    return "".join(part[:1].upper() + part[1:] for part in availability_zone.split("-"))
