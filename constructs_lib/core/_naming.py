"""The naming convention `<env>-<project>-<component>-<resource>` and the AWS limits of each name.

Every physical name and every `Name` tag in the app comes from `Naming`, so a name that AWS
would reject fails here, at synth (or earlier, in config validation), not half-way through a
deploy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import TypeVar

_LOWER_WORD = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_Method = TypeVar("_Method", bound=Callable[..., str])
# Every method marked `@_fixed_name`, in the order of the class: what `Naming.problems` checks.
_FIXED_NAMES: list[Callable[..., str]] = []


class InvalidNameError(ValueError):
    """A name that the AWS service it is meant for would reject."""


class NameKind(Enum):
    """An AWS name with its documented length limit and allowed characters."""

    # (max length, pattern, what the pattern allows in words)
    STACK = (128, r"^[a-zA-Z][-a-zA-Z0-9]*$", "letters, digits and hyphens, starting with a letter")
    LOAD_BALANCER = (
        32,
        r"^(?!internal-)[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$",
        "letters, digits and hyphens, not starting or ending with a hyphen or 'internal-'",
    )
    LOG_GROUP = (512, r"^[-._/#a-zA-Z0-9]+$", "letters, digits and . _ - / #")
    KMS_ALIAS = (256, r"^alias/(?!aws/)[-a-zA-Z0-9/_]+$", "'alias/' then letters, digits, / _ -")
    SNS_TOPIC = (256, r"^[-_a-zA-Z0-9]+$", "letters, digits, hyphens and underscores")
    ALARM = (255, r"^[-_.a-zA-Z0-9]+$", "letters, digits and - _ .")
    DASHBOARD = (255, r"^[-_a-zA-Z0-9]+$", "letters, digits, hyphens and underscores")
    METRIC_NAMESPACE = (
        255,
        r"^(?!AWS/)[-_./#:a-zA-Z0-9]+$",
        "letters, digits and . - _ / # :, not starting with 'AWS/'",
    )
    TAG_VALUE = (256, r"^[\w\s.:/=+\-@]*$", "letters, digits, spaces and _ . : / = + - @")

    def __init__(self, max_length: int, pattern: str, allowed: str) -> None:
        self.max_length = max_length
        self.regex = re.compile(pattern)
        self.allowed = allowed

    def check(self, name: str) -> str:
        if len(name) > self.max_length:
            raise InvalidNameError(
                f"{self.label} name {name!r} has {len(name)} characters; "
                f"AWS allows at most {self.max_length}"
            )
        if not self.regex.match(name):
            raise InvalidNameError(f"{self.label} name {name!r} may only contain {self.allowed}")
        return name

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


def is_lower_word(value: str) -> bool:
    """True for names usable as `<env>` or `<project>`: lower-case words joined by hyphens."""
    return bool(_LOWER_WORD.match(value))


def _fixed_name(method: _Method) -> _Method:
    """Marks a method without arguments that gives one fixed physical name of an environment."""
    _FIXED_NAMES.append(method)
    return method


@dataclass(frozen=True)
class Naming:
    """Names for one environment of one project."""

    environment: str
    project: str

    def name(self, component: str, resource: str = "", kind: NameKind = NameKind.TAG_VALUE) -> str:
        """`<env>-<project>-<component>[-<resource>]`, lower-case, checked against `kind`."""
        parts = [self.environment, self.project, component, resource]
        return kind.check("-".join(p for p in parts if p).lower())

    def stack_name(self, component: str) -> str:
        return self.name(component, kind=NameKind.STACK)

    def log_group_name(self, component: str, resource: str) -> str:
        # Slashes group an environment's log groups in the console; the parts follow the convention.
        return NameKind.LOG_GROUP.check(
            f"/{self.environment}/{self.project}/{component}/{resource}".lower()
        )

    def kms_alias(self, component: str, resource: str) -> str:
        return NameKind.KMS_ALIAS.check(f"alias/{self.name(component, resource)}")

    @_fixed_name
    def key_alias(self) -> str:
        """The alias of the environment key (EBS, logs, notifications)."""
        return self.kms_alias(SECURITY, "key")

    @_fixed_name
    def flow_log_group_name(self) -> str:
        return self.log_group_name(SECURITY, "vpc-flow-logs")

    def log_group_name_patterns(self) -> list[str]:
        """Every log group name this environment gives: its own and the web ACL's."""
        return [
            f"/{self.environment}/{self.project}/*",
            f"{WAF_LOG_PREFIX}{self.environment}-{self.project}-*",
        ]

    @_fixed_name
    def waf_log_group_name(self) -> str:
        # WAF delivers only to log groups whose name starts with `aws-waf-logs-`.
        return NameKind.LOG_GROUP.check(f"{WAF_LOG_PREFIX}{self.name(COMPUTE, 'waf')}")

    @_fixed_name
    def load_balancer_name(self) -> str:
        return self.name(COMPUTE, "alb", NameKind.LOAD_BALANCER)

    @_fixed_name
    def alarm_topic_name(self) -> str:
        return self.name(COMPUTE, "alarms", NameKind.SNS_TOPIC)

    @_fixed_name
    def notification_topic_name(self) -> str:
        """The informational topic: launches and terminations of the group, nothing that pages."""
        return self.name(COMPUTE, "notifications", NameKind.SNS_TOPIC)

    def alarm_name(self, alarm: str) -> str:
        return self.name(COMPUTE, alarm, NameKind.ALARM)

    def alarm_name_pattern(self) -> str:
        """Every name `alarm_name` gives in this environment; the ARN adds account and region."""
        return f"{self.name(COMPUTE)}-*"

    @_fixed_name
    def dashboard_name(self) -> str:
        return self.name(COMPUTE, "dashboard", NameKind.DASHBOARD)

    @_fixed_name
    def instance_log_group_name(self) -> str:
        return self.log_group_name(COMPUTE, "instances")

    @_fixed_name
    def agent_metric_namespace(self) -> str:
        """Where the CloudWatch agent on this environment's instances puts memory and disk use."""
        return NameKind.METRIC_NAMESPACE.check(f"{self.project}/{self.environment}/instances")

    def problems(self) -> list[str]:
        """Why any fixed physical name of this environment would be rejected by AWS.

        Buckets, roles, security groups, the target group and the Auto Scaling group get names from
        CloudFormation on purpose: a fixed name blocks the replacement of the resource.
        """
        producers: list[Callable[[], str]] = [
            # Stack names take the component. Alarm names, which the monitoring package chooses,
            # are checked as each alarm is named.
            *(partial(self.stack_name, c) for c in COMPONENTS),
            *(partial(method, self) for method in _FIXED_NAMES),
        ]
        found = []
        for produce in producers:
            try:
                produce()
            except InvalidNameError as error:
                found.append(str(error))
        return found


WAF_LOG_PREFIX = "aws-waf-logs-"
PIPELINE = "pipeline"
# The pipeline serves every environment; its resources carry this as their `<env>`.
DELIVERY_ENVIRONMENT = "cicd"


def pipeline_stack_name(project: str) -> str:
    """`<project>-pipeline`: the one stack that is not per environment."""
    return NameKind.STACK.check(f"{project}-{PIPELINE}")


# Components (stacks) of one environment, in deployment order.
NETWORK = "network"
SECURITY = "security"
COMPUTE = "compute"
COMPONENTS = (NETWORK, SECURITY, COMPUTE)
