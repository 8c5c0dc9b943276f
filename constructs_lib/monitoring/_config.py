"""The `alarms` and `autoshift` sections of an environment: who is told, at what thresholds, and
whether ARC may shift traffic away from an impaired AZ by itself."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from constructs_lib.core import EMAIL, Placement, Problem, Problems, Section, check, text

# ARC's formats (the CloudFormation schema of AWS::ARCZonalShift::ZonalAutoshiftConfiguration):
# weekly windows `Ddd:HH:MM-Ddd:HH:MM` and dates `YYYY-MM-DD`, both in UTC.
_DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
# ARC: "The blockedWindows have to start and end on the same day. Windows that span multiple days
# aren't supported" (CreatePracticeRunConfiguration): a weekend is four windows, not one.
PracticeRunWindow = Annotated[
    str,
    text(
        f"^{_DAY}:{_TIME}-{_DAY}:{_TIME}$",
        "a weekly UTC window within one day such as Sat:00:00-Sat:23:59 (day Mon..Sun, hours "
        "00..23)",
    ),
    check(
        lambda window: window[:3] == window[10:13] and window[4:9] < window[14:19],
        "a window within one day that ends after it starts, such as Sat:00:00-Sat:23:59 (ARC "
        "refuses windows across days: a weekend is four windows, Fri, Sat, Sun and Mon)",
    ),
]
PracticeRunDate = Annotated[
    str,
    text(r"^20[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$", "a UTC date YYYY-MM-DD"),
]
_SECONDS = "seconds above 0, at most 60 (the load balancer's timeout)"
_PERCENT = "a percentage above 0 and below 100"


class ZonalAlarmsSection(Section):
    """When one AZ counts as failing its users (_zonal.py says why each default is what it is)."""

    # The error rate of one AZ, as the regional alarm computes it.
    server_error_rate_percent: float = Field(5.0, gt=0, lt=100, description=_PERCENT)
    response_time_p99_seconds: float = Field(2.0, gt=0, le=60, description=_SECONDS)
    # Answered requests per minute in one AZ before its rates count.
    minimum_requests: int = Field(
        20, ge=1, le=1_000_000, description="requests per minute in one AZ, 1 to 1000000"
    )
    # How many percentage points this AZ's error rate exceeds that of the other AZs together.
    error_outlier_points: float = Field(
        5.0, gt=0, lt=100, description="percentage points above 0 and below 100"
    )
    # How many times this AZ's p99 exceeds the slowest of the other AZs' p99.
    latency_outlier_ratio: float = Field(
        2.0, gt=1, le=100, description="a ratio above 1, at most 100"
    )


class AlarmsSection(Section):
    """Where alarms go and the thresholds that differ by environment (_alarms.py says why each
    default is what it is)."""

    email: str | None = text(EMAIL, "an e-mail address", None)
    # Launches and terminations of the group: worth reading, never worth waking someone for.
    notification_email: str | None = text(EMAIL, "an e-mail address", None)
    response_time_p99_seconds: float = Field(2.0, gt=0, le=60, description=_SECONDS)
    server_error_rate_percent: float = Field(5.0, gt=0, lt=100, description=_PERCENT)
    minimum_requests: int = Field(
        50, ge=1, le=1_000_000, description="requests per minute, 1 to 1000000"
    )
    elb_errors_per_minute: int = Field(
        10, ge=1, le=1_000_000, description="responses per minute, 1 to 1000000"
    )
    zonal: ZonalAlarmsSection = ZonalAlarmsSection.defaults()


class AutoshiftSection(Section):
    """ARC zonal autoshift with weekly practice runs on the load balancer."""

    # None: on in prod only. ARC has no resource types in the emulator.
    enabled: bool | None = Field(
        None,
        description="ARC zonal autoshift with weekly practice runs on the load balancer; "
        "default: on in prod only; not in an emulator-only environment",
    )
    practice_run_blocked_windows: tuple[PracticeRunWindow, ...] = Field(
        (),
        strict=False,
        max_length=15,
        description="up to 15 weekly UTC windows within one day each, such as "
        "Sat:00:00-Sat:23:59, in which ARC starts no practice run",
    )
    practice_run_blocked_dates: tuple[PracticeRunDate, ...] = Field(
        (),
        strict=False,
        max_length=15,
        description="up to 15 UTC dates such as 2026-12-24 on which ARC starts no practice run",
    )

    def on(self, placement: Placement) -> bool:
        """Zonal autoshift and its weekly practice runs: on in prod unless config says no."""
        return placement.is_production if self.enabled is None else self.enabled

    def problems(self, placement: Placement) -> Problems:
        if self.on(placement) and placement.emulator:
            allowed = "the emulator has no ARC resource types (AWS::ARCZonalShift::*): leave "
            allowed += "autoshift off in an emulator-only environment"
            yield Problem(f"{placement.path}.autoshift.enabled", True, allowed)
