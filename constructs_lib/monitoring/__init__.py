"""The monitoring component: topics, alarms (regional and per AZ), zonal autoshift and the
dashboard; its config sections are `alarms` and `autoshift`."""

from constructs_lib.monitoring._alarms import WebTierAlarms, encrypted_topic
from constructs_lib.monitoring._config import (
    AlarmsSection,
    AutoshiftSection,
    ZonalAlarmsSection,
)
from constructs_lib.monitoring._dashboard import WebTierDashboard
from constructs_lib.monitoring._zonal import (
    ZonalResilience,
    enable_zonal_shift,
)

__all__ = [
    "AlarmsSection",
    "AutoshiftSection",
    "WebTierAlarms",
    "WebTierDashboard",
    "ZonalAlarmsSection",
    "ZonalResilience",
    "enable_zonal_shift",
    "encrypted_topic",
]
