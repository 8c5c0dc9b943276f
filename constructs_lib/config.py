"""Typed, validated configuration parsed once from the CDK context (cdk.json and `-c key=value`).

`AppConfig.from_context` is the only reader of context: pydantic checks each value against the
models, and `_rules` checks the rules between values over every part that is well-formed on its
own. A `ConfigError` lists them all as `path = value: what is allowed`, before anything is
synthesized.
"""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import ErrorDetails

from constructs_lib.core import (
    AVAILABILITY_ZONE_LETTERS,
    FLEET_CPU_TARGET_PERCENT,
    LARGEST_SUBNET_PREFIX,
    LOG_RETENTION_DAYS,
    LOST_AZ_CPU_CEILING_PERCENT,
    MAX_CERTIFICATE_DOMAIN,
    SUBNET_TIERS,
    Architecture,
    LogRetentionDays,
    Naming,
    instance_architecture,
    is_lower_word,
    subnet_prefix,
)
from constructs_lib.fleet import (
    ALARM_WINDOW_MINUTES,
    MAX_WAIT_MINUTES,
    smallest_max_healthy_percentage,
)

PRODUCTION = "prod"
# moto's one account: an environment declared `emulator: true` must name it, so that the switches
# only the emulator needs can never reach a real account.
EMULATOR_ACCOUNT = "123456789012"
# Switches that turn off a Lambda-backed custom resource, which the emulator cannot run, and what
# switching each off costs in a real account.
_EMULATOR_SWITCHES = {
    "restrictDefaultSecurityGroup": "the VPC's default security group keeps its allow-all rules",
    "ensureServiceLinkedRole": "in an account that never had an Auto Scaling group, KMS rejects "
    "the key policy: the AWSServiceRoleForAutoScaling it names does not exist yet",
    "emptyBucketsOnDelete": "deleting the environment fails on its full buckets",
}
_PRIVATE_RANGES = [
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
]
# RFC 1035 names as Route 53 and ACM take them (lower case, no trailing dot, no wildcard); a letter
# first in the last label tells a name from an IP address.
_DNS_NAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
# Context keys of CDK and its CLI (`cdk acknowledge` writes `acknowledged-issue-numbers`).
_FOREIGN_KEY = re.compile(r"^@|:|^acknowledged-issue-numbers$")
_REMOVED_KEYS = {
    "desiredCapacity": "no longer supported: the group starts at minCapacity and scales between "
    "minCapacity and maxCapacity; a desired capacity in the template would reset a scaled-out "
    "fleet on every deploy (remove the key)",
}
_OBJECT = "expected an object (a JSON map of keys to values)"
_EXPECTED_TYPE = {
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "tuple_type": "expected a list",
    "model_type": _OBJECT,
}


def _check(test: Callable[[Any], object], allowed: str) -> AfterValidator:
    """A rule pydantic has no keyword for, and what the report says when a value breaks it."""

    def validate(value: Any) -> Any:
        if not test(value):
            raise ValueError(allowed)
        return value

    return AfterValidator(validate)


def _text(pattern: str, description: str, default: Any = ...) -> Any:
    """A text field; its description is the editor's hint and, after "expected", the report's."""
    return Field(default, pattern=pattern, description=description)


def _vpc_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError("expected an IPv4 CIDR block such as 10.0.0.0/16") from None
    if not any(network.subnet_of(private) for private in _PRIVATE_RANGES):
        raise ValueError("expected a private (RFC 1918) range: 10/8, 172.16/12, 192.168/16")
    if not 16 <= network.prefixlen <= 28:
        raise ValueError("VPC prefix must be /16 to /28")
    return value


def _distinct_azs(azs: tuple[str, ...]) -> tuple[str, ...]:
    # Counted here, not by min_length: pydantic would count only the items that validated.
    if not 2 <= len(azs) <= 6:
        raise ValueError("expected 2 to 6 availability zones")
    if repeated := sorted({az for az in azs if azs.count(az) > 1}):
        raise ValueError(f"each availability zone may appear once; repeated: {repeated}")
    return azs


DnsName = Annotated[
    str,
    _check(
        lambda name: len(name) <= 253 and _DNS_NAME.fullmatch(name),
        "expected a lower-case DNS name such as app.example.com: labels of 1 to 63 letters, "
        "digits and inner hyphens, 253 characters in all, no trailing dot and no wildcard",
    ),
]
EMAIL = r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$"
Port = Annotated[
    int,
    Field(ge=1, le=65535, description="a TCP port from 1 to 65535"),
    _check(lambda port: port != 22, "port 22 is not allowed (SSH: use SSM Session Manager)"),
]
Account = Annotated[str, _text(r"^\d{12}$", "12 digits")]
Region = Annotated[
    str, _text(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$", "a region such as us-east-1")
]
# Lower case: WAF matches header names case-insensitively, so `X-Api-Key` and `x-api-key` are one.
HeaderName = Annotated[
    str, _text(r"^[a-z0-9!#$%&'*+.^_`|~-]+$", "a lower-case HTTP header name such as x-api-key")
]

# ARC's formats (the CloudFormation schema of AWS::ARCZonalShift::ZonalAutoshiftConfiguration):
# weekly windows `Ddd:HH:MM-Ddd:HH:MM` and dates `YYYY-MM-DD`, both in UTC.
_DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
# ARC: "The blockedWindows have to start and end on the same day. Windows that span multiple days
# aren't supported" (CreatePracticeRunConfiguration): a weekend is four windows, not one.
PracticeRunWindow = Annotated[
    str,
    _text(
        f"^{_DAY}:{_TIME}-{_DAY}:{_TIME}$",
        "a weekly UTC window within one day such as Sat:00:00-Sat:23:59 (day Mon..Sun, hours "
        "00..23)",
    ),
    _check(
        lambda window: window[:3] == window[10:13] and window[4:9] < window[14:19],
        "a window within one day that ends after it starts, such as Sat:00:00-Sat:23:59 (ARC "
        "refuses windows across days: a weekend is four windows, Fri, Sat, Sun and Mon)",
    ),
]


PracticeRunDate = Annotated[
    str,
    _text(r"^20[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$", "a UTC date YYYY-MM-DD"),
]


class _Model(pydantic.BaseModel):
    # Strict: a capacity of "2" or `true`, or a switch of "false", is a mistake to report.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, alias_generator=to_camel)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        optional = {f.alias for f in cls.model_fields.values() if not f.is_required()}
        return {k: v for k, v in data.items() if v is not None or k not in optional}


_M = TypeVar("_M", bound=_Model)


def _ascending_to_100(checkpoints: tuple[int, ...]) -> tuple[int, ...]:
    if list(checkpoints) != sorted(set(checkpoints)):
        raise ValueError("expected percentages in ascending order, each once")
    if checkpoints and checkpoints[-1] != 100:
        raise ValueError("the last checkpoint must be 100, or the refresh stops short of the fleet")
    return checkpoints


_WAIT = f"minutes, {ALARM_WINDOW_MINUTES} (the gating alarms' evaluation window) to "
_WAIT += str(MAX_WAIT_MINUTES)


class RolloutConfig(_Model):
    """How a release replaces the fleet: CloudFormation's instance refresh (rollout.py).

    Percentages are of the group's desired capacity at the time, not of minCapacity.
    """

    min_healthy_percentage: int = Field(
        100, ge=50, le=100, description="a percentage from 50 to 100 (prod: 100)"
    )
    # None: one instance per batch at minCapacity.
    max_healthy_percentage: int | None = Field(
        None,
        ge=100,
        le=200,
        description="a percentage from 100 to 200, at most 100 above minHealthyPercentage",
    )
    bake_time_minutes: int = Field(
        10, ge=ALARM_WINDOW_MINUTES, le=MAX_WAIT_MINUTES, description=_WAIT
    )
    checkpoints: Annotated[
        tuple[Annotated[int, Field(ge=1, le=100)], ...], AfterValidator(_ascending_to_100)
    ] = Field(
        (),
        strict=False,
        max_length=10,
        description="ascending percentages of the fleet replaced (1 to 100, the last one 100) "
        "after which the release pauses",
    )
    checkpoint_delay_minutes: int = Field(
        10, ge=ALARM_WINDOW_MINUTES, le=MAX_WAIT_MINUTES, description=_WAIT
    )
    # Break glass: a gating alarm already in ALARM (an incident the release means to fix, or a
    # bad release found after its bake) fails every release, the fix and the revert alike.
    alarm_gate: bool = Field(
        True, description="false only to deploy a fix or a revert while a gating alarm is in ALARM"
    )


class EnvironmentConfig(_Model):
    """One deployment target: an account, a region and the size of its web tier."""

    name: SkipJsonSchema[str]  # its key under `environments`
    emulator: bool = Field(
        False,
        description=f"true: this environment is deployed only into the local AWS emulator "
        f"(account {EMULATOR_ACCOUNT}), never by the pipeline; only such an environment may "
        "switch off restrictDefaultSecurityGroup, ensureServiceLinkedRole or emptyBucketsOnDelete",
    )
    account: Account
    region: Region
    availability_zones: Annotated[tuple[str, ...], AfterValidator(_distinct_azs)] = Field(
        strict=False, description="2 to 6 distinct availability zones of region"
    )
    vpc_cidr: Annotated[str, AfterValidator(_vpc_cidr)] = Field(
        description="a private (RFC 1918) /16 to /28 range"
    )
    # 0 is the AWS-only egress mode: the app tier has no route to the internet.
    nat_gateways: int = Field(
        ge=0, description="0 (AWS-only egress) to the number of availabilityZones"
    )
    interface_endpoints: bool = True
    restrict_default_security_group: bool = True
    instance_type: str = _text(
        r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$", "an EC2 instance type such as t3.small"
    )
    ami_id: str = _text(
        r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$", "an AMI ID such as ami-0123456789abcdef0"
    )
    # The AMI's architecture, which nothing offline can read from its ID: the instance type must
    # run it, or every launch fails at deploy time.
    architecture: Architecture = Field(
        "x86_64", description="the AMI's processor architecture: x86_64 or arm64 (Graviton)"
    )
    min_capacity: int = Field(ge=1, le=1000, description="1 to 1000")
    max_capacity: int = Field(ge=1, le=1000, description="1 to 1000")
    app_port: Port = 8080
    db_port: Port = 5432
    health_check_path: str = _text(
        r"^/[-A-Za-z0-9._~/]*$", "a URL path starting with '/'", "/health"
    )
    log_retention_days: LogRetentionDays = Field(90, description=f"one of {LOG_RETENTION_DAYS}")
    ensure_service_linked_role: bool = True
    empty_buckets_on_delete: bool | None = Field(
        None, description="empty the buckets when the stack is deleted; default: on outside prod"
    )
    certificate_arn: str | None = _text(
        r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
        "an ACM certificate ARN",
        None,
    )
    domain_name: DnsName | None = Field(
        None,
        description="the web tier's host name, such as app.example.com; needs hostedZoneId and "
        "hostedZoneName; without certificateArn a DNS-validated certificate is created",
    )
    hosted_zone_id: str | None = _text(
        r"^Z[0-9A-Z]{1,31}$", "a Route 53 public hosted zone ID such as Z0123456789ABCDEFGHIJ", None
    )
    hosted_zone_name: DnsName | None = Field(
        None,
        description="the name of that hosted zone, such as example.com (in this environment's "
        "account; no lookup at synth)",
    )
    alarm_email: str | None = _text(EMAIL, "an e-mail address", None)
    # Launches and terminations of the group: worth reading, never worth waking someone for.
    notification_email: str | None = _text(EMAIL, "an e-mail address", None)
    # Alarm thresholds that differ by environment; alarms.py says why each default is what it is.
    alarm_response_time_p99_seconds: float = Field(
        2.0, gt=0, le=60, description="seconds above 0, at most 60 (the load balancer's timeout)"
    )
    alarm_server_error_rate_percent: float = Field(
        5.0, gt=0, lt=100, description="a percentage above 0 and below 100"
    )
    alarm_minimum_requests: int = Field(
        50, ge=1, le=1_000_000, description="requests per minute, 1 to 1000000"
    )
    alarm_elb_errors_per_minute: int = Field(
        10, ge=1, le=1_000_000, description="responses per minute, 1 to 1000000"
    )
    # Per-AZ detection (constructs_lib/monitoring/_zonal.py says why each default is what it is).
    zonal_server_error_rate_percent: float = Field(
        5.0, gt=0, lt=100, description="a percentage above 0 and below 100"
    )
    zonal_response_time_p99_seconds: float = Field(
        2.0, gt=0, le=60, description="seconds above 0, at most 60 (the load balancer's timeout)"
    )
    zonal_minimum_requests: int = Field(
        20, ge=1, le=1_000_000, description="requests per minute in one AZ, 1 to 1000000"
    )
    zonal_error_outlier_points: float = Field(
        5.0, gt=0, lt=100, description="percentage points above 0 and below 100"
    )
    zonal_latency_outlier_ratio: float = Field(
        2.0, gt=1, le=100, description="a ratio above 1, at most 100"
    )
    # None: on in prod only. ARC has no resource types in the emulator.
    zonal_autoshift: bool | None = Field(
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
    # None runs the bundled service; instances install a release only if its digest matches.
    release_artifact: str | None = _text(
        r"^releases/[-A-Za-z0-9._/]+$", "an object key under releases/", None
    )
    # S3 version IDs are opaque (up to 1024 characters): checked for shape only, never parsed.
    release_version_id: str | None = Field(
        None,
        pattern=r"^[!-~]+$",
        max_length=1024,
        description="the S3 version ID of releaseArtifact, as `aws s3api put-object` prints it: "
        "up to 1024 printable characters without spaces",
    )
    release_sha256: str | None = _text(
        r"^[0-9a-f]{64}$", "the release archive's SHA-256: 64 lower-case hex digits", None
    )
    rollout: RolloutConfig = Field(
        default_factory=lambda: RolloutConfig.model_validate({}),
        description="how a release replaces the fleet: healthy percentages, checkpoints, bake",
    )
    # authorization and cookie are always redacted (constructs_lib/edge/_web_acl.py).
    waf_redacted_headers: tuple[HeaderName, ...] = Field(
        (),
        strict=False,
        max_length=20,
        description="lower-case HTTP header names such as x-api-key (20 at most) that WAF "
        "logs as REDACTED",
    )

    @property
    def aws_only_egress(self) -> bool:
        """No NAT: the app tier reaches AWS through endpoints only, and nothing else."""
        return self.nat_gateways == 0

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION

    @property
    def autoshifts(self) -> bool:
        """Zonal autoshift and its weekly practice runs: on in prod unless config says no."""
        if self.zonal_autoshift is None:
            return self.is_production
        return self.zonal_autoshift

    @property
    def cross_zone(self) -> bool:
        """Cross-zone load balancing stays on unless every AZ holds an instance at the floor: a
        load-balancer node without a target in its own AZ could not serve its share."""
        return self.min_capacity < len(self.availability_zones)

    @property
    def serves_https(self) -> bool:
        return self.certificate_arn is not None or self.domain_name is not None

    @property
    def empties_buckets_on_delete(self) -> bool:
        """Outside prod a teardown deletes the buckets, which CloudFormation cannot while full."""
        if self.empty_buckets_on_delete is None:
            return not self.is_production
        return self.empty_buckets_on_delete


def _waves(items: Any) -> Any:
    """`["dev", ["staging", "qa"], "prod"]`: a lone name is a wave of one."""
    # Counted here, not by min_length: pydantic would count only the items that validated.
    if not isinstance(items, list) or not items:
        raise ValueError("expected a list of environments (or of lists deployed together)")
    if not all(isinstance(i, str | list) for i in items):
        raise ValueError("expected environment names, or lists of them deployed together")
    return tuple((i,) if isinstance(i, str) else tuple(i) for i in items)


class _Rollout(_Model):
    """Where the pipeline deploys and in what order: what the rules between values read of it,
    so that they run even while another pipeline key is malformed."""

    model_config = ConfigDict(extra="ignore")

    # Waves in order; the environments of one wave deploy in parallel.
    waves: Annotated[
        tuple[tuple[str, ...], ...],
        BeforeValidator(_waves, json_schema_input_type=list[str | list[str]]),
    ] = Field(alias="environments")
    manual_approval: tuple[str, ...] = Field(
        strict=False,
        default_factory=lambda data: (PRODUCTION,) * any(PRODUCTION in w for w in data["waves"]),
    )


class PipelineConfig(_Rollout):
    """The delivery pipeline: where it lives, what it watches, where it deploys, in what order."""

    model_config = ConfigDict(extra="forbid")

    account: Account
    region: Region
    repository: str = _text(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", "owner/name of the repository")
    branch: str = _text(r"\S", "a non-empty string")
    connection_arn: str = _text(
        r"^arn:aws[a-z-]*:(?:codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$",
        "a CodeConnections (or CodeStar connections) connection ARN",
    )


def _named(environments: Any) -> Any:
    """The `environments` map as a tuple, each environment carrying its key as its name."""
    if not isinstance(environments, dict):
        raise ValueError(_OBJECT)
    if not environments:
        raise ValueError("expected at least one environment")
    return tuple({**e, "name": n} if isinstance(e, dict) else e for n, e in environments.items())


def _split(selection: Any) -> Any:
    """`-c env=dev,prod` (the CLI keeps only the last `-c env=`), or a list set in cdk.json."""
    items = [selection] if isinstance(selection, str) else selection
    if not isinstance(items, list):
        raise ValueError("expected environment names separated by commas, or a list of them")
    if all(isinstance(item, str) for item in items):
        return tuple(name.strip() for item in items for name in item.split(","))
    return selection


def _cli_bool(value: Any) -> Any:
    """`-c lookups=true` arrives as a string: the CLI does not parse `-c` values."""
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


class AppConfig(_Model):
    """The keys of the CDK context that configure this app."""

    model_config = ConfigDict(json_schema_extra={"patternProperties": {_FOREIGN_KEY.pattern: {}}})

    project: Annotated[
        str,
        _check(
            is_lower_word, "expected lower-case letters and digits, words joined by single hyphens"
        ),
    ]
    owner: str = _text(r"\S", "a non-empty string")
    cost_center: str = _text(r"\S", "a non-empty string")
    environments: Annotated[
        tuple[EnvironmentConfig, ...],
        BeforeValidator(_named, json_schema_input_type=dict[str, EnvironmentConfig]),
    ] = Field(description="each environment's name (lower-case words) and its settings")
    # Set, it narrows the synth to these environments and leaves the pipeline out.
    env: Annotated[
        tuple[str, ...] | None, BeforeValidator(_split, json_schema_input_type=str | list[str])
    ] = Field(None, strict=False, description="environments to synthesize, comma-separated")
    pipeline: PipelineConfig | None = None
    # `make context` sets it: the CDK CLI may then look up what cdk.context.json lacks. Off, a
    # missing entry is an error that says so, and synth never calls AWS.
    lookups: Annotated[bool, BeforeValidator(_cli_bool, json_schema_input_type=bool)] = Field(
        False, description="true lets the CDK CLI look up values cdk.context.json lacks"
    )

    @property
    def narrowed(self) -> bool:
        return self.env is not None

    @property
    def selected_environments(self) -> tuple[EnvironmentConfig, ...]:
        selected = self.env or tuple(e.name for e in self.environments)
        return tuple(e for e in self.environments if e.name in selected)

    def naming(self, environment: EnvironmentConfig) -> Naming:
        return Naming(environment=environment.name, project=self.project)

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> AppConfig:
        own = {key: value for key, value in context.items() if not _FOREIGN_KEY.search(key)}
        names = list(own["environments"]) if isinstance(own.get("environments"), dict) else []
        try:
            config, errors = cls.model_validate(own), []
        except pydantic.ValidationError as error:
            # A default computed from values that failed would only repeat their problems.
            errors = [e for e in error.errors() if e["type"] != "default_factory_not_called"]
        if problems := [*(_problem(e, names) for e in errors), *_rules(own, names)]:
            raise ConfigError(problems)
        return config


def _rules(own: Mapping[str, Any], names: list[str]) -> Iterator[Problem]:
    """The rules that relate values to each other. They run over the parts of the context that
    are well-formed on their own (all of it, once it is valid), so one run lists every problem;
    only an environment's own rules wait for its values. `names`: the configured environments."""
    project = own.get("project")
    project = project if isinstance(project, str) and is_lower_word(project) else None
    for name in names:
        if not is_lower_word(name):
            allowed = "environment names are lower-case words (e.g. 'prod')"
            yield Problem(f"environments.{name}", name, allowed)
        elif project is not None:
            for reason in Naming(environment=name, project=project).problems():
                allowed = f"{reason}; shorten the environment name or 'project'"
                yield Problem(f"environments.{name}", name, allowed)
    try:
        named = _named(own.get("environments"))
    except ValueError:
        named = ()
    environments = [e for e in (_valid(EnvironmentConfig, v) for v in named) if e is not None]
    for env in environments:
        yield from _environment_problems(env)
    for first, second in itertools.combinations(environments, 2):
        at = f"environments.{second.name}"
        if ipaddress.IPv4Network(first.vpc_cidr).overlaps(ipaddress.IPv4Network(second.vpc_cidr)):
            taken = f"environments.{first.name}.vpcCidr ({first.vpc_cidr})"
            allowed = f"overlaps {taken}; VPCs that may be peered need distinct ranges"
            yield Problem(f"{at}.vpcCidr", second.vpc_cidr, allowed)
        if first.ami_id == second.ami_id and first.region != second.region:
            allowed = f"also the amiId of environments.{first.name} in {first.region}; AMI IDs "
            allowed += f"are regional: use the ID of the same image in {second.region}"
            yield Problem(f"{at}.amiId", second.ami_id, allowed)
        if first.domain_name is not None and first.domain_name == second.domain_name:
            allowed = f"also the domainName of environments.{first.name}: one name, one tier"
            yield Problem(f"{at}.domainName", second.domain_name, allowed)
    if not names:
        return  # nothing to check references against
    for name in _valid_selection(own.get("env")):
        if name not in names:
            yield Problem("env", name, f"not a configured environment; choose from {names}")
    if (rollout := _valid(_Rollout, own.get("pipeline"))) is not None:
        # From the raw map: an emulator-only environment stays out of the pipeline even while
        # another of its values is malformed.
        emulators = {e["name"] for e in named if isinstance(e, dict) and e.get("emulator") is True}
        yield from _pipeline_problems(rollout, names, emulators)


def _valid(model: type[_M], data: Any) -> _M | None:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError:
        return None


def _valid_selection(selection: Any) -> tuple[str, ...]:
    try:
        names = _split(selection) if selection is not None else ()
    except ValueError:
        return ()
    return names if isinstance(names, tuple) else ()


def _environment_problems(env: EnvironmentConfig) -> Iterator[Problem]:
    at, azs = f"environments.{env.name}", env.availability_zones
    domain, zone = env.domain_name, env.hosted_zone_name

    def problem(key: str, value: object, allowed: str) -> Problem:
        return Problem(f"{at}.{key}", value, allowed)

    letters = AVAILABILITY_ZONE_LETTERS.get(env.region)
    if letters is None:
        allowed = "a region whose availability zones config knows; add its zone letters to "
        allowed += "AVAILABILITY_ZONE_LETTERS in constructs_lib/core/_service_limits.py"
        yield problem("region", env.region, allowed)
    for index, az in enumerate(azs):
        letter = az.removeprefix(env.region)
        if letter == az or len(letter) != 1 or (letters is not None and letter not in letters):
            zones = ", ".join(env.region + known for known in letters or "")
            allowed = f"not an availability zone of region {env.region}"
            yield problem(
                f"availabilityZones[{index}]",
                az,
                f"{allowed}; its zones: {zones}" if letters else allowed,
            )
    if (runs := instance_architecture(env.instance_type)) != env.architecture:
        allowed = f"a {runs} instance type; the AMI is {env.architecture} (architecture): "
        allowed += f"choose a {env.architecture} type, or an {runs} AMI and set architecture"
        yield problem("instanceType", env.instance_type, allowed)
    if env.certificate_arn is not None:
        _, _, _, cert_region, cert_account, _ = env.certificate_arn.split(":", 5)
        if (cert_region, cert_account) != (env.region, env.account):
            allowed = f"a certificate of account {cert_account} in {cert_region}; a load balancer "
            allowed += f"uses only certificates of its own account and region ({env.account}, "
            allowed += f"{env.region})"
            yield problem("certificateArn", env.certificate_arn, allowed)
    if env.nat_gateways > len(azs):
        allowed = f"expected 0 to {len(azs)}: one per AZ for availability, fewer to save cost"
        yield problem("natGateways", env.nat_gateways, allowed)
    if env.aws_only_egress and not env.interface_endpoints:
        allowed = "natGateways 0 with interfaceEndpoints false is not allowed: without NAT, "
        allowed += "instances reach AWS APIs (SSM, CloudFormation, ELB) only through endpoints"
        yield problem("natGateways", 0, allowed)
    prefix = subnet_prefix(ipaddress.IPv4Network(env.vpc_cidr).prefixlen, len(azs))
    if prefix > LARGEST_SUBNET_PREFIX:
        allowed = f"too small for {SUBNET_TIERS} tiers x {len(azs)} AZs: each subnet would be "
        allowed += f"/{prefix}, an ALB needs at least /{LARGEST_SUBNET_PREFIX}"
        yield problem("vpcCidr", env.vpc_cidr, allowed)
    if env.min_capacity >= env.max_capacity:
        allowed = f"must be below maxCapacity ({env.max_capacity}): the group scales between "
        allowed += "them, and a release launches replacements before it terminates"
        yield problem("minCapacity", env.min_capacity, allowed)
    if env.autoshifts:
        if env.emulator:
            allowed = "the emulator has no ARC resource types (AWS::ARCZonalShift::*): leave "
            allowed += "zonalAutoshift off in an emulator-only environment"
            yield problem("zonalAutoshift", True, allowed)
        # Practice runs take an AZ away every week: what cannot survive that is an error here
        # (where autoshift is off it is a choice, docs/design.md "Static stability").
        yield from lost_az_problems(env)
    yield from _rollout_problems(env, problem)
    if env.db_port == env.app_port:
        yield problem("dbPort", env.db_port, "must differ from appPort")
    if env.is_production and not env.serves_https:
        allowed = "production serves HTTPS only: set domainName (with its hosted zone; the app "
        allowed += "creates the certificate) or certificateArn"
        yield problem("certificateArn", None, allowed)
    if env.is_production and env.empty_buckets_on_delete:
        allowed = "production keeps its buckets and their objects when its stacks are deleted"
        yield problem("emptyBucketsOnDelete", True, allowed)
    if env.emulator and env.account != EMULATOR_ACCOUNT:
        allowed = "an emulator-only environment (emulator: true) deploys into the emulator's "
        allowed += f"account {EMULATOR_ACCOUNT} only: a real account would get it without the "
        allowed += "protections it may switch off; remove emulator or use that account"
        yield problem("account", env.account, allowed)
    switches = {
        "restrictDefaultSecurityGroup": env.restrict_default_security_group,
        "ensureServiceLinkedRole": env.ensure_service_linked_role,
        # Off is production's own default: prod keeps its buckets.
        "emptyBucketsOnDelete": env.empties_buckets_on_delete or env.is_production,
    }
    for key, on in switches.items():
        if not on and not env.emulator:
            allowed = "may be false only in an environment declared emulator-only "
            allowed += f"(emulator: true), where Lambda cannot run; here {_EMULATOR_SWITCHES[key]}"
            yield problem(key, False, allowed)
    if env.release_artifact is not None and env.release_sha256 is None:
        allowed = f"required with releaseArtifact ({env.release_artifact!r}): instances install "
        allowed += "it only if its SHA-256 matches, so an overwritten object cannot split the fleet"
        yield problem("releaseSha256", None, allowed)
    if env.release_sha256 is not None and env.release_artifact is None:
        allowed = "releaseSha256 without releaseArtifact verifies nothing: set both or neither"
        yield problem("releaseSha256", env.release_sha256, allowed)
    if env.release_artifact is not None and env.release_version_id is None:
        allowed = f"required with releaseArtifact ({env.release_artifact!r}): instances download "
        allowed += "that version of the object, so a later upload to the same key cannot stop "
        allowed += "scale-out (the artifact bucket is versioned)"
        yield problem("releaseVersionId", None, allowed)
    if env.release_version_id is not None and env.release_artifact is None:
        allowed = "releaseVersionId without releaseArtifact names a version of nothing: set both "
        allowed += "or neither"
        yield problem("releaseVersionId", env.release_version_id, allowed)
    for key, value in {"hostedZoneId": env.hosted_zone_id, "hostedZoneName": zone}.items():
        if domain is None and value is not None:
            yield problem(key, value, "only used with domainName: set domainName or remove it")
        if domain is not None and value is None:
            yield problem(key, None, "required with domainName: the hosted zone it lives in")
    if domain and zone and domain != zone and not domain.endswith(f".{zone}"):
        allowed = f"not inside hostedZoneName ({zone}): the records and the validation go there"
        yield problem("domainName", domain, allowed)
    if domain and env.certificate_arn is None and len(domain) > MAX_CERTIFICATE_DOMAIN:
        allowed = f"at most {MAX_CERTIFICATE_DOMAIN} characters for the certificate the app "
        allowed += "requests (ACM's Common Name limit); shorten it or set certificateArn"
        yield problem("domainName", domain, allowed)
    if domain and env.certificate_arn is None and env.emulator:
        allowed = "the emulator has no ACM certificates: leave an emulator-only environment "
        allowed += "without one"
        yield problem("domainName", domain, allowed)


def survivor_cpu_percent(min_capacity: int, az_count: int) -> float:
    """Fleet CPU right after the AZ holding the most of `min_capacity` instances is lost.

    Auto Scaling spreads the group evenly, so one AZ holds at most ceil(min / AZs); target
    tracking keeps the whole fleet near FLEET_CPU_TARGET_PERCENT, and the survivors take the
    lost instances' share before any scale-out (static stability: no launch is needed to cope).
    """
    survivors = min_capacity - math.ceil(min_capacity / az_count)
    return math.inf if survivors <= 0 else FLEET_CPU_TARGET_PERCENT * min_capacity / survivors


def lost_az_problems(env: EnvironmentConfig) -> Iterator[Problem]:
    """What keeps `env` from serving with one AZ gone (its practice runs, a zonal shift)."""
    at, azs = f"environments.{env.name}", len(env.availability_zones)
    if env.cross_zone:
        allowed = f"at least one instance per AZ ({azs}): cross-zone load balancing is off "
        allowed += "where every AZ holds an instance, and an AZ without one cannot take a share "
        allowed += "of the traffic when another is shifted away"
        yield Problem(f"{at}.minCapacity", env.min_capacity, allowed)
    elif (cpu := survivor_cpu_percent(env.min_capacity, azs)) > LOST_AZ_CPU_CEILING_PERCENT:
        allowed = f"with {azs} AZs, losing the AZ with the most instances leaves the rest at "
        allowed += f"{cpu:.0f}% CPU (the fleet aims at {FLEET_CPU_TARGET_PERCENT}%), above "
        allowed += f"{LOST_AZ_CPU_CEILING_PERCENT}%: use a multiple of the AZ count, or more AZs"
        yield Problem(f"{at}.minCapacity", env.min_capacity, allowed)
    if env.nat_gateways not in (0, azs):
        allowed = f"0 (AWS-only egress) or one per AZ ({azs}): with fewer, losing the AZ of a NAT "
        allowed += "gateway also cuts the egress of the AZs routed through it"
        yield Problem(f"{at}.natGateways", env.nat_gateways, allowed)


def _rollout_problems(
    env: EnvironmentConfig, problem: Callable[[str, object, str], Problem]
) -> Iterator[Problem]:
    rollout = env.rollout
    lowest, highest = rollout.min_healthy_percentage, rollout.max_healthy_percentage
    if env.is_production and lowest != 100:
        allowed = "production keeps the whole capacity it serves while a release replaces "
        allowed += "instances: 100"
        yield problem("rollout.minHealthyPercentage", lowest, allowed)
    if highest is None:
        return
    if highest - lowest > 100:
        allowed = f"at most 100 above minHealthyPercentage ({lowest}): Auto Scaling's limit"
        yield problem("rollout.maxHealthyPercentage", highest, allowed)
    elif env.min_capacity * (highest - lowest) < 100:
        smallest = smallest_max_healthy_percentage(env.min_capacity, lowest)
        allowed = f"leaves no room for one instance at minCapacity ({env.min_capacity}), so no "
        allowed += f"release could start: at least {smallest} (or leave it out)"
        yield problem("rollout.maxHealthyPercentage", highest, allowed)


def _pipeline_problems(
    pipeline: _Rollout, names: list[str], emulators: set[str]
) -> Iterator[Problem]:
    deployed: list[str] = []
    for index, wave in enumerate(pipeline.waves):
        for name in wave:
            path = f"pipeline.environments[{index}]"
            if name not in names:
                allowed = f"expected a configured environment ({names}), or a list of them"
                yield Problem(path, name, allowed)
            elif name in emulators:
                allowed = "declared emulator-only (emulator: true): it runs in the emulator only, "
                allowed += "the pipeline deploys real accounts"
                yield Problem(path, name, allowed)
            elif name in deployed:
                yield Problem(path, name, "each environment may appear once")
            else:
                deployed.append(name)
    for index, name in enumerate(pipeline.manual_approval):
        if name not in deployed:
            allowed = f"expected an environment the pipeline deploys ({deployed})"
            yield Problem(f"pipeline.manualApproval[{index}]", name, allowed)


@dataclass(frozen=True)
class Problem:
    path: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"{self.path} = {_as_written(self.value)}: {self.allowed}"


def _as_written(value: object) -> str:
    """The value as cdk.json spells it (`null`, `true`, `"dev"`), not as Python prints it."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return repr(value)


class ConfigError(Exception):
    """Every problem found in the configuration, reported at once."""

    heading = "Invalid configuration in cdk.json context"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"{self.heading} ({len(self.problems)} problem(s)):"]
        return "\n".join(lines + [f"  - {p}" for p in self.problems])


class ContextCacheError(ConfigError):
    """Values the app reads from CDK's context cache (cdk.context.json) that it does not hold."""

    heading = "Missing from cdk.context.json; synth does not call AWS to fill it"


def _problem(error: ErrorDetails, names: list[str]) -> Problem:
    """pydantic's error as `path = value: what is allowed`, in the words of cdk.json."""
    loc = list(error["loc"])
    if loc[0] == "environments" and len(loc) > 1:
        loc[1] = names[int(loc[1])]  # `_named` made the map a tuple
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    # The model and key the location names: an environment's, the pipeline's or the top level's.
    model, key = (
        (RolloutConfig, loc[3]) if loc[0] == "environments" and len(loc) > 3
        and loc[2] == "rollout"
        else (EnvironmentConfig, loc[2]) if loc[0] == "environments" and len(loc) > 2
        else (PipelineConfig, loc[1]) if loc[0] == "pipeline" and len(loc) > 1
        else (AppConfig, loc[0])
    )  # fmt: skip
    fields = {str(f.alias): f for f in model.model_fields.values() if f.alias != "name"}
    kind, value = error["type"], error["input"]
    description = getattr(fields.get(str(key)), "description", None)
    if kind == "extra_forbidden":
        hint = "".join(
            f" did you mean '{m}'?" for m in difflib.get_close_matches(str(key), fields, 1)
        )
        allowed = f"unknown key;{hint} (allowed: {', '.join(sorted(fields))})"
        return Problem(path, value, _REMOVED_KEYS.get(str(key), allowed))
    if kind == "missing":
        return Problem(path, None, "required key is missing")
    if kind == "value_error":
        return Problem(path, value, str(error.get("ctx", {}).get("error")))
    if kind in _EXPECTED_TYPE or not description:
        return Problem(path, value, _EXPECTED_TYPE.get(kind, error["msg"]))
    return Problem(path, value, f"expected {description}")
