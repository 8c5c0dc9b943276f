"""The `alarms` section (who is told, at what thresholds, per AZ too) and the `autoshift` section
(whether ARC may shift traffic away from an impaired AZ, and when it may not practise)."""

from __future__ import annotations

import pytest

from constructs_lib.core.tests.literal_context import (
    environment,
    only_problem,
    parsed,
    problem_at,
)
from constructs_lib.monitoring import ZonalAlarmsSection


@pytest.mark.parametrize("email", ["oncall", "oncall@example", "on call@example.com"])
def test_alarm_email_that_is_not_an_address_is_rejected(email: str) -> None:
    problem = only_problem(environment("prod", alarms={"email": email}))

    assert (problem.path, problem.value) == ("environments.prod.alarms.email", email)
    assert problem.allowed == "expected an e-mail address"


@pytest.mark.parametrize("email", ["ops", "ops@example"])
def test_notification_email_that_is_not_an_address_is_rejected(email: str) -> None:
    problem = only_problem(environment("prod", alarms={"notificationEmail": email}))

    assert (problem.path, problem.allowed) == (
        "environments.prod.alarms.notificationEmail",
        "expected an e-mail address",
    )


def test_null_alarm_email_means_no_subscriber() -> None:
    alarms = parsed(environment("prod", alarms={"email": None})).alarms

    assert alarms.email is None


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        (
            "responseTimeP99Seconds",
            0,
            "expected seconds above 0, at most 60 (the load balancer's timeout)",
        ),
        (
            "responseTimeP99Seconds",
            61,
            "expected seconds above 0, at most 60 (the load balancer's timeout)",
        ),
        ("serverErrorRatePercent", 100, "expected a percentage above 0 and below 100"),
        ("serverErrorRatePercent", 0, "expected a percentage above 0 and below 100"),
        ("minimumRequests", 0, "expected requests per minute, 1 to 1000000"),
        ("elbErrorsPerMinute", 0, "expected responses per minute, 1 to 1000000"),
        ("responseTimeP99Seconds", "2s", "expected a number"),
        ("minimumRequests", 1.5, "expected an integer"),
    ],
)
def test_alarm_threshold_out_of_range_is_rejected_naming_the_key(
    key: str, value: object, allowed: str
) -> None:
    problem = only_problem(environment("dev", alarms={key: value}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.dev.alarms.{key}",
        value,
        allowed,
    )


def test_alarm_thresholds_take_their_defaults_and_accept_whole_seconds() -> None:
    alarms = parsed(environment("dev", alarms={"responseTimeP99Seconds": 3})).alarms

    assert alarms.response_time_p99_seconds == 3
    assert (
        alarms.server_error_rate_percent,
        alarms.minimum_requests,
        alarms.elb_errors_per_minute,
        alarms.email,
        alarms.notification_email,
    ) == (5.0, 50, 10, None, None)
    assert alarms.zonal == ZonalAlarmsSection.model_validate({})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("serverErrorRatePercent", 0),
        ("serverErrorRatePercent", 100),
        ("responseTimeP99Seconds", 61),
        ("minimumRequests", 0),
        ("errorOutlierPoints", 0),
        ("latencyOutlierRatio", 1),
    ],
)
def test_zonal_thresholds_outside_their_ranges_are_rejected(key: str, value: float) -> None:
    problem = only_problem(environment("prod", alarms={"zonal": {key: value}}))

    assert (problem.path, problem.value) == (f"environments.prod.alarms.zonal.{key}", value)
    assert problem.allowed.startswith("expected ")


def test_zonal_thresholds_take_their_defaults_when_left_out() -> None:
    zonal = parsed(environment("prod")).alarms.zonal

    assert (
        zonal.server_error_rate_percent,
        zonal.response_time_p99_seconds,
        zonal.minimum_requests,
        zonal.error_outlier_points,
        zonal.latency_outlier_ratio,
    ) == (5.0, 2.0, 20, 5.0, 2.0)


def test_zonal_autoshift_is_on_in_prod_and_off_elsewhere_by_default() -> None:
    assert {name: parsed(environment(name)).autoshifts for name in ("dev", "prod", "local")} == {
        "dev": False,
        "prod": True,
        "local": False,
    }


def test_zonal_autoshift_may_be_switched_on_where_the_environment_can_lose_an_az() -> None:
    # Three AZs, an instance and a NAT gateway in each: what prod has.
    context = environment(
        "dev",
        availabilityZones=["us-east-1a", "us-east-1b", "us-east-1c"],
        network={"natGateways": 3},
        fleet={"minCapacity": 3, "maxCapacity": 9},
        autoshift={"enabled": True},
    )

    assert parsed(context).autoshifts


def test_zonal_autoshift_may_be_switched_off_in_prod() -> None:
    assert not parsed(environment("prod", autoshift={"enabled": False})).autoshifts


def test_zonal_autoshift_in_the_emulator_is_rejected_because_it_has_no_arc_types() -> None:
    context = environment("local", autoshift={"enabled": True})

    problem = problem_at(context, "environments.local.autoshift.enabled")

    assert problem.value is True
    assert "ARC" in problem.allowed


def test_zonal_autoshift_that_is_not_true_or_false_is_rejected() -> None:
    problem = only_problem(environment("dev", autoshift={"enabled": "on"}))

    assert (problem.path, problem.allowed) == (
        "environments.dev.autoshift.enabled",
        "expected true or false",
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("practiceRunBlockedWindows", ["Fri:16:00-Mon:8:00"]),
        ("practiceRunBlockedWindows", ["Friday:16:00-Mon:08:00"]),
        ("practiceRunBlockedWindows", ["Fri:24:00-Mon:08:00"]),
        ("practiceRunBlockedDates", ["2026-13-01"]),
        ("practiceRunBlockedDates", ["24.12.2026"]),
    ],
)
def test_practice_run_windows_and_dates_outside_arc_formats_are_rejected(
    key: str, value: list[str]
) -> None:
    problem = only_problem(environment("prod", autoshift={key: value}))

    assert (problem.path, problem.value) == (f"environments.prod.autoshift.{key}[0]", value[0])


@pytest.mark.parametrize(
    "window", ["Fri:16:00-Mon:08:00", "Sat:10:00-Sat:09:00", "Sun:12:00-Sun:12:00"]
)
def test_a_practice_run_window_across_days_or_ending_before_it_starts_is_rejected(
    window: str,
) -> None:
    # ARC: "The blockedWindows have to start and end on the same day."
    context = environment("prod", autoshift={"practiceRunBlockedWindows": [window]})

    problem = only_problem(context)

    assert (problem.path, problem.value) == (
        "environments.prod.autoshift.practiceRunBlockedWindows[0]",
        window,
    )
    assert "within one day" in problem.allowed


def test_more_than_fifteen_blocked_dates_are_rejected() -> None:
    dates = [f"2026-12-{day:02d}" for day in range(1, 17)]

    problem = only_problem(environment("prod", autoshift={"practiceRunBlockedDates": dates}))

    assert problem.path == "environments.prod.autoshift.practiceRunBlockedDates"


def test_blocked_windows_and_dates_in_arc_formats_are_accepted() -> None:
    autoshift = {
        "practiceRunBlockedWindows": ["Fri:16:00-Fri:23:59", "Sat:00:00-Sat:23:59"],
        "practiceRunBlockedDates": ["2026-12-24"],
    }

    prod = parsed(environment("prod", autoshift=autoshift))

    assert prod.autoshift.practice_run_blocked_windows == (
        "Fri:16:00-Fri:23:59",
        "Sat:00:00-Sat:23:59",
    )
    assert prod.autoshift.practice_run_blocked_dates == ("2026-12-24",)
