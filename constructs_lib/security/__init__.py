"""The security component: the environment's KMS key, the tiers' security groups and the instance
role; its config section is `security`."""

from constructs_lib.security._config import (
    SecuritySection,
)
from constructs_lib.security._encryption import (
    AUTOSCALING_ROLE_NAME,
    WorkloadKey,
    allow_cloudwatch_logs,
    grants_only_for_aws_services,
)
from constructs_lib.security._instance_role import InstanceRole
from constructs_lib.security._security_groups import TierSecurityGroups

__all__ = [
    "AUTOSCALING_ROLE_NAME",
    "InstanceRole",
    "SecuritySection",
    "TierSecurityGroups",
    "WorkloadKey",
    "allow_cloudwatch_logs",
    "grants_only_for_aws_services",
]
