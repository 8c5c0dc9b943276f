"""Typed, validated configuration parsed once from the CDK context (cdk.json and `-c key=value`).

`AppConfig.from_context` is the only place that reads context. It checks every rule before any
construct is built and raises one `ConfigError` that lists every problem, each naming the key path,
the bad value and what is allowed. Constructs and stacks receive the frozen dataclasses below.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from constructs_lib.naming import Naming, is_lower_word

T = TypeVar("T")

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$")
_AMI = re.compile(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")
_HEALTH_PATH = re.compile(r"^/[-A-Za-z0-9._~/]*$")
_RELEASE_KEY = re.compile(r"^releases/[-A-Za-z0-9._/]+$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(?:codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:"
    r"connection/[0-9a-f-]{36}$"
)
PRODUCTION = "prod"
LOCAL = "local"

# Values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
MIN_AZS, MAX_AZS = 2, 6
SUBNET_TIERS = 3  # public, private with egress, isolated
# An Application Load Balancer needs subnets of at least /27 (8 free addresses per subnet).
LARGEST_SUBNET_PREFIX = 27
SMALLEST_VPC_PREFIX, LARGEST_VPC_PREFIX = 16, 28
_PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
RESERVED_PORTS = {22: "SSH: this design uses SSM Session Manager instead"}

# Context keys that belong to CDK or the CLI rather than to this app (`cdk acknowledge` writes
# `acknowledged-issue-numbers` into cdk.context.json, which the CLI passes in as context).
_FOREIGN_KEY = re.compile(r"^@|:|^acknowledged-issue-numbers$")


@dataclass(frozen=True)
class Problem:
    path: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"{self.path} = {self.value!r}: {self.allowed}"


class ConfigError(Exception):
    """Every problem found in the configuration, reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"Invalid configuration in cdk.json context ({len(self.problems)} problem(s)):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class EnvironmentConfig:
    """One deployment target: an account, a region and the size of its web tier."""

    name: str
    account: str
    region: str
    availability_zones: tuple[str, ...]
    vpc_cidr: str
    nat_gateways: int
    interface_endpoints: bool
    restrict_default_security_group: bool
    instance_type: str
    ami_id: str
    min_capacity: int
    max_capacity: int
    desired_capacity: int
    app_port: int
    db_port: int
    health_check_path: str
    log_retention_days: int
    ensure_service_linked_role: bool
    empty_buckets_on_delete: bool
    certificate_arn: str | None = None
    alarm_email: str | None = None
    # An object key under the artifact bucket's releases/ prefix; None runs the bundled service.
    release_artifact: str | None = None

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION


@dataclass(frozen=True)
class PipelineConfig:
    """The delivery pipeline: where it lives, what it watches, where it deploys, in what order."""

    account: str
    region: str
    repository: str
    branch: str
    connection_arn: str
    # Waves in order; the environments of one wave deploy in parallel.
    waves: tuple[tuple[str, ...], ...]
    manual_approval: tuple[str, ...]


@dataclass(frozen=True)
class AppConfig:
    project: str
    owner: str
    cost_center: str
    environments: tuple[EnvironmentConfig, ...]
    # The environments this synth builds: all of them unless `-c env=...` narrows it.
    selected: tuple[str, ...] = field(default=())
    pipeline: PipelineConfig | None = None
    # True when `-c env=...` narrowed the synth: the pipeline is then left out.
    narrowed: bool = False

    def naming(self, environment: EnvironmentConfig) -> Naming:
        return Naming(environment=environment.name, project=self.project)

    @property
    def selected_environments(self) -> tuple[EnvironmentConfig, ...]:
        return tuple(e for e in self.environments if e.name in self.selected)

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> AppConfig:
        reader = _Reader()
        config = _parse_app(reader, context)
        if reader.problems or config is None:
            raise ConfigError(reader.problems)
        return config


_REQUIRED: Any = object()


class _Reader:
    """Reads typed values from nested mappings, collecting problems instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: str, value: object, allowed: str) -> None:
        self.problems.append(Problem(path, value, allowed))

    def mapping(self, value: object, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return cast(Mapping[str, Any], value)
        self.problem(path, value, "expected an object (a JSON map of keys to values)")
        return None

    def unknown_keys(self, data: Mapping[str, Any], known: set[str], path: str) -> None:
        for key in data:
            if key in known or (not path and _FOREIGN_KEY.search(key)):
                continue
            hint = difflib.get_close_matches(key, sorted(known), n=1)
            guess = f" did you mean '{hint[0]}'?" if hint else ""
            allowed = f"unknown key;{guess} (allowed: {', '.join(sorted(known))})"
            self.problem(_join(path, key), data[key], allowed)

    def get(
        self,
        data: Mapping[str, Any],
        path: str,
        key: str,
        kind: type[T],
        default: T | None = _REQUIRED,
        check: Callable[[T], str | None] | None = None,
    ) -> T | None:
        full = _join(path, key)
        if key not in data:
            if default is _REQUIRED:
                self.problem(full, None, f"required key is missing ({_describe(kind)})")
                return None
            return default
        value = data[key]
        if value is None and default is not _REQUIRED:
            return default
        # bool is an int in Python; a capacity of `true` is a type error, not 1.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problem(full, value, f"expected {_describe(kind)}")
            return None
        if check is not None and (reason := check(value)) is not None:
            self.problem(full, value, reason)
            return None
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(kind: type) -> str:
    return {
        str: "a string",
        int: "an integer",
        bool: "true or false",
        list: "a list",
        dict: "an object",
    }.get(kind, kind.__name__)


def _matches(regex: re.Pattern[str], allowed: str) -> Callable[[str], str | None]:
    return lambda value: None if regex.match(value) else allowed


def _between(low: int, high: int) -> Callable[[int], str | None]:
    return lambda value: None if low <= value <= high else f"expected {low} to {high}"


def _port(value: int) -> str | None:
    if value in RESERVED_PORTS:
        return f"port {value} is not allowed ({RESERVED_PORTS[value]})"
    return None if 1 <= value <= 65535 else "expected a TCP port from 1 to 65535"


def _lower_word(value: str) -> str | None:
    if is_lower_word(value):
        return None
    return "expected lower-case letters and digits, words joined by single hyphens (e.g. 'webapp')"


def _non_empty(value: str) -> str | None:
    return None if value.strip() else "expected a non-empty string"


def _parse_app(r: _Reader, context: Mapping[str, Any]) -> AppConfig | None:
    known = {"project", "owner", "costCenter", "environments", "env", "pipeline"}
    r.unknown_keys(context, known, "")
    project = r.get(context, "", "project", str, check=_lower_word)
    owner = r.get(context, "", "owner", str, check=_non_empty)
    cost_center = r.get(context, "", "costCenter", str, check=_non_empty)

    environments: list[EnvironmentConfig] = []
    raw_envs = r.get(context, "", "environments", dict)
    if raw_envs is not None and not raw_envs:
        r.problem("environments", raw_envs, "expected at least one environment")
    for name, raw in (raw_envs or {}).items():
        path = f"environments.{name}"
        if not is_lower_word(name):
            r.problem(path, name, "environment names are lower-case words (e.g. 'prod')")
            continue
        data = r.mapping(raw, path)
        env = _parse_environment(r, name, data, path) if data is not None else None
        if env is not None:
            environments.append(env)

    _check_overlapping_cidrs(r, environments)
    if project is not None:
        for env in environments:
            for reason in Naming(env.name, project).problems():
                r.problem(
                    f"environments.{env.name}",
                    env.name,
                    f"{reason}; shorten the environment name or 'project'",
                )

    # Names, not parsed environments: `-c env=prod` with a bad prod value is one problem, not two.
    names = [n for n in (raw_envs or {}) if is_lower_word(n)]
    selected = _parse_selection(r, context.get("env"), names)
    pipeline = None
    # Without a usable environments map every pipeline reference would be reported as well.
    if "pipeline" in context and isinstance(raw_envs, Mapping) and raw_envs:
        data = r.mapping(context["pipeline"], "pipeline")
        pipeline = _parse_pipeline(r, data, names) if data is not None else None
    if r.problems or project is None or owner is None or cost_center is None:
        return None
    return AppConfig(
        project=project,
        owner=owner,
        cost_center=cost_center,
        environments=tuple(environments),
        selected=selected,
        pipeline=pipeline,
        narrowed=context.get("env") is not None,
    )


_PIPELINE_KEYS = (
    "account",
    "region",
    "repository",
    "branch",
    "connectionArn",
    "environments",
    "manualApproval",
)


def _parse_pipeline(
    r: _Reader, data: Mapping[str, Any], known_environments: list[str]
) -> PipelineConfig | None:
    path = "pipeline"
    before = len(r.problems)
    r.unknown_keys(data, set(_PIPELINE_KEYS), path)
    account, region = _account_and_region(r, data, path)
    repository = r.get(
        data,
        path,
        "repository",
        str,
        check=_matches(_REPOSITORY, "expected owner/name of the source repository"),
    )
    branch = r.get(data, path, "branch", str, check=_non_empty)
    connection_arn = r.get(
        data,
        path,
        "connectionArn",
        str,
        check=_matches(
            _CONNECTION_ARN,
            "expected a CodeConnections (or CodeStar connections) connection ARN",
        ),
    )
    waves: list[tuple[str, ...]] = []
    seen: list[str] = []
    raw_waves = r.get(data, path, "environments", list)
    if raw_waves is not None and not raw_waves:
        r.problem(f"{path}.environments", raw_waves, "expected at least one environment")
    for index, item in enumerate(raw_waves or []):
        item_path = f"{path}.environments[{index}]"
        wave = item if isinstance(item, list) else [item]
        for name in wave:
            if not isinstance(name, str) or name not in known_environments:
                r.problem(
                    item_path,
                    name,
                    f"expected a configured environment ({known_environments}), or a list of "
                    "them to deploy in parallel",
                )
            elif name == LOCAL:
                r.problem(item_path, name, "the local environment is for the emulator only")
            elif name in seen:
                r.problem(item_path, name, "each environment may appear once")
            else:
                seen.append(name)
        waves.append(tuple(n for n in wave if isinstance(n, str)))
    default_approval = [PRODUCTION] if PRODUCTION in seen else []
    approval = r.get(data, path, "manualApproval", list, default=default_approval)
    for index, name in enumerate(approval or []):
        if name not in seen:
            r.problem(
                f"{path}.manualApproval[{index}]",
                name,
                f"expected an environment the pipeline deploys ({seen})",
            )
    if len(r.problems) > before:
        return None
    return PipelineConfig(
        account=cast(str, account),
        region=cast(str, region),
        repository=cast(str, repository),
        branch=cast(str, branch),
        connection_arn=cast(str, connection_arn),
        waves=tuple(waves),
        manual_approval=tuple(cast(list[str], approval)),
    )


def _parse_selection(r: _Reader, raw: object, names: list[str]) -> tuple[str, ...]:
    if raw is None:
        return tuple(names)
    items = raw if isinstance(raw, list) else [raw]
    selected: list[str] = []
    for item in items:
        if not isinstance(item, str):
            r.problem("env", item, "expected environment names separated by commas")
            continue
        for name in (n.strip() for n in item.split(",")):
            if name not in names:
                r.problem("env", name, f"not a configured environment; choose from {names}")
            elif name not in selected:
                selected.append(name)
    return tuple(selected)


def _parse_environment(
    r: _Reader, name: str, data: Mapping[str, Any], path: str
) -> EnvironmentConfig | None:
    before = len(r.problems)
    r.unknown_keys(data, set(_ENVIRONMENT_KEYS), path)
    account, region = _account_and_region(r, data, path)
    azs = _parse_azs(r, data, path, region)
    vpc_cidr = r.get(data, path, "vpcCidr", str)
    if vpc_cidr is not None and azs is not None:
        _check_vpc_cidr(r, f"{path}.vpcCidr", vpc_cidr, len(azs))
    nat_gateways = r.get(data, path, "natGateways", int)
    if nat_gateways is not None and azs is not None and not 1 <= nat_gateways <= len(azs):
        r.problem(
            f"{path}.natGateways",
            nat_gateways,
            f"expected 1 to {len(azs)} (one per AZ for availability, 1 shared to save cost); "
            "private subnets with egress need at least one",
        )
    instance_type = r.get(
        data,
        path,
        "instanceType",
        str,
        check=_matches(_INSTANCE_TYPE, "expected an EC2 instance type such as t3.small"),
    )
    ami_id = r.get(
        data,
        path,
        "amiId",
        str,
        check=_matches(_AMI, "expected an AMI ID such as ami-0123456789abcdef0"),
    )
    capacity = _between(1, 1000)
    min_capacity = r.get(data, path, "minCapacity", int, check=capacity)
    max_capacity = r.get(data, path, "maxCapacity", int, check=capacity)
    desired = r.get(data, path, "desiredCapacity", int, check=capacity)
    if None not in (min_capacity, max_capacity, desired):
        _check_capacities(
            r, path, cast(int, min_capacity), cast(int, desired), cast(int, max_capacity)
        )
    app_port = r.get(data, path, "appPort", int, default=8080, check=_port)
    db_port = r.get(data, path, "dbPort", int, default=5432, check=_port)
    health = r.get(
        data,
        path,
        "healthCheckPath",
        str,
        default="/health",
        check=_matches(_HEALTH_PATH, "expected a URL path starting with '/', e.g. /health"),
    )
    retention = r.get(
        data,
        path,
        "logRetentionDays",
        int,
        default=90,
        check=lambda v: (
            None if v in LOG_RETENTION_DAYS else f"expected one of {LOG_RETENTION_DAYS}"
        ),
    )
    certificate_arn = r.get(
        data,
        path,
        "certificateArn",
        str,
        default=None,
        check=_matches(_CERTIFICATE_ARN, "expected an ACM certificate ARN"),
    )
    alarm_email = r.get(
        data,
        path,
        "alarmEmail",
        str,
        default=None,
        check=_matches(_EMAIL, "expected an e-mail address"),
    )
    interface_endpoints = r.get(data, path, "interfaceEndpoints", bool, default=True)
    restrict_default_sg = r.get(data, path, "restrictDefaultSecurityGroup", bool, default=True)
    ensure_slr = r.get(data, path, "ensureServiceLinkedRole", bool, default=True)
    empty_buckets = r.get(data, path, "emptyBucketsOnDelete", bool, default=name != PRODUCTION)
    if name == PRODUCTION and empty_buckets:
        r.problem(
            f"{path}.emptyBucketsOnDelete",
            empty_buckets,
            "production keeps its buckets and their objects when its stacks are deleted",
        )
    release_artifact = r.get(
        data,
        path,
        "releaseArtifact",
        str,
        default=None,
        check=_matches(
            _RELEASE_KEY, "expected an object key under releases/, e.g. releases/app.tgz"
        ),
    )
    if name == PRODUCTION and data.get("certificateArn") is None:
        r.problem(
            f"{path}.certificateArn",
            None,
            "production serves HTTPS only: set an ACM certificate ARN (plain HTTP is allowed "
            "only outside prod)",
        )
    if app_port is not None and app_port == db_port:
        r.problem(f"{path}.dbPort", db_port, "must differ from appPort")

    if len(r.problems) > before:
        return None
    return EnvironmentConfig(
        name=name,
        account=cast(str, account),
        region=cast(str, region),
        availability_zones=tuple(cast(list[str], azs)),
        vpc_cidr=cast(str, vpc_cidr),
        nat_gateways=cast(int, nat_gateways),
        interface_endpoints=cast(bool, interface_endpoints),
        restrict_default_security_group=cast(bool, restrict_default_sg),
        instance_type=cast(str, instance_type),
        ami_id=cast(str, ami_id),
        min_capacity=cast(int, min_capacity),
        max_capacity=cast(int, max_capacity),
        desired_capacity=cast(int, desired),
        app_port=cast(int, app_port),
        db_port=cast(int, db_port),
        health_check_path=cast(str, health),
        log_retention_days=cast(int, retention),
        ensure_service_linked_role=cast(bool, ensure_slr),
        empty_buckets_on_delete=cast(bool, empty_buckets),
        certificate_arn=certificate_arn,
        alarm_email=alarm_email,
        release_artifact=release_artifact,
    )


_ENVIRONMENT_KEYS = (
    "account",
    "region",
    "availabilityZones",
    "vpcCidr",
    "natGateways",
    "interfaceEndpoints",
    "restrictDefaultSecurityGroup",
    "instanceType",
    "amiId",
    "minCapacity",
    "maxCapacity",
    "desiredCapacity",
    "appPort",
    "dbPort",
    "healthCheckPath",
    "logRetentionDays",
    "certificateArn",
    "alarmEmail",
    "ensureServiceLinkedRole",
    "emptyBucketsOnDelete",
    "releaseArtifact",
)


def _account_and_region(
    r: _Reader, data: Mapping[str, Any], path: str
) -> tuple[str | None, str | None]:
    """The deployment target of an environment or of the pipeline."""
    account = r.get(data, path, "account", str, check=_matches(_ACCOUNT, "expected 12 digits"))
    region = r.get(
        data, path, "region", str, check=_matches(_REGION, "expected a region such as us-east-1")
    )
    return account, region


def _parse_azs(
    r: _Reader, data: Mapping[str, Any], path: str, region: str | None
) -> list[str] | None:
    azs = r.get(data, path, "availabilityZones", list)
    if azs is None:
        return None
    full = f"{path}.availabilityZones"
    if not MIN_AZS <= len(azs) <= MAX_AZS:
        r.problem(full, azs, f"expected {MIN_AZS} to {MAX_AZS} availability zones")
        return None
    ok = True
    for index, az in enumerate(azs):
        if not isinstance(az, str):
            r.problem(f"{full}[{index}]", az, "expected a string such as us-east-1a")
            ok = False
        elif region is not None and not re.fullmatch(re.escape(region) + r"[a-z]", az):
            r.problem(f"{full}[{index}]", az, f"not an availability zone of region {region}")
            ok = False
    duplicates = sorted({az for az in azs if isinstance(az, str) and azs.count(az) > 1})
    if duplicates:
        r.problem(full, azs, f"each availability zone may appear once; repeated: {duplicates}")
        ok = False
    return cast(list[str], azs) if ok else None


def subnet_prefix(vpc_prefix: int, az_count: int) -> int:
    """The prefix length CDK's default allocator gives each subnet when it splits the VPC evenly.

    Mirrors `ec2.Vpc`: the space is divided among tiers x AZs subnets, rounded down to a power of
    two. Tests compare it with the subnets CDK actually synthesizes.
    """
    return 32 - math.floor(math.log2(2 ** (32 - vpc_prefix) / (SUBNET_TIERS * az_count)))


def _check_vpc_cidr(r: _Reader, path: str, value: str, az_count: int) -> None:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        r.problem(path, value, "expected an IPv4 CIDR block such as 10.0.0.0/16")
        return
    if not any(network.subnet_of(private) for private in _PRIVATE_RANGES):
        r.problem(path, value, "expected a private (RFC 1918) range: 10/8, 172.16/12, 192.168/16")
        return
    if not SMALLEST_VPC_PREFIX <= network.prefixlen <= LARGEST_VPC_PREFIX:
        r.problem(
            path, value, f"VPC prefix must be /{SMALLEST_VPC_PREFIX} to /{LARGEST_VPC_PREFIX}"
        )
        return
    prefix = subnet_prefix(network.prefixlen, az_count)
    if prefix > LARGEST_SUBNET_PREFIX:
        r.problem(
            path,
            value,
            f"too small for {SUBNET_TIERS} tiers x {az_count} AZs: each subnet would be /{prefix}, "
            f"the load balancer needs at least /{LARGEST_SUBNET_PREFIX}",
        )


def _check_capacities(r: _Reader, path: str, low: int, desired: int, high: int) -> None:
    if not low <= desired <= high:
        r.problem(
            f"{path}.desiredCapacity",
            desired,
            f"expected minCapacity ({low}) <= desiredCapacity <= maxCapacity ({high})",
        )
    if low >= high:
        r.problem(
            f"{path}.minCapacity",
            low,
            f"must be below maxCapacity ({high}): a rolling update keeps minCapacity instances "
            "in service and needs room for one more",
        )


def _check_overlapping_cidrs(r: _Reader, environments: list[EnvironmentConfig]) -> None:
    for i, first in enumerate(environments):
        for second in environments[i + 1 :]:
            if ipaddress.IPv4Network(first.vpc_cidr).overlaps(
                ipaddress.IPv4Network(second.vpc_cidr)
            ):
                r.problem(
                    f"environments.{second.name}.vpcCidr",
                    second.vpc_cidr,
                    f"overlaps environments.{first.name}.vpcCidr ({first.vpc_cidr}); "
                    "VPCs that may be peered or share a transit gateway need distinct ranges",
                )
