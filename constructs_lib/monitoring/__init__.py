"""monitoring"""

from constructs_lib.monitoring._alarms import AlarmThresholds, WebTierAlarms, encrypted_topic
from constructs_lib.monitoring._dashboard import WebTierDashboard
from constructs_lib.monitoring._zonal import (
    PracticeRuns,
    ZonalResilience,
    ZonalThresholds,
    enable_zonal_shift,
)

__all__ = [
    "AlarmThresholds",
    "PracticeRuns",
    "WebTierAlarms",
    "WebTierDashboard",
    "ZonalResilience",
    "ZonalThresholds",
    "enable_zonal_shift",
    "encrypted_topic",
]
