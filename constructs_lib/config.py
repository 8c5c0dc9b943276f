"""The app's configuration: the CDK context (cdk.json and `-c key=value`) parsed once.

An environment is the place it is deployed to (account, region, AZs) and one section per
component (`network`, `security`, `storage`, `edge`, `fleet`, `alarms`, `autoshift`); each section
is the model its component's constructs take, defined in that component. `AppConfig.from_context`
is the only reader of context: pydantic checks each value, each well-formed section checks its own
rules against its placement, and the rules between components run here. A `ConfigError` lists
every problem at once as `path = value: what is allowed`, before anything is synthesized.
"""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import math
import re
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import ErrorDetails

from constructs_lib.core import (
    AVAILABILITY_ZONE_LETTERS,
    EMULATOR_ACCOUNT,
    FLEET_CPU_TARGET_PERCENT,
    LOG_RETENTION_DAYS,
    LOST_AZ_CPU_CEILING_PERCENT,
    PRODUCTION,
    Account,
    ConfigError,
    ContextCacheError,
    LogRetentionDays,
    Naming,
    Placement,
    Problem,
    Problems,
    Region,
    Section,
    check,
    is_lower_word,
    text,
)
from constructs_lib.delivery import PipelineSection, PipelineWaves
from constructs_lib.edge import EdgeSection
from constructs_lib.fleet import FleetSection
from constructs_lib.monitoring import AlarmsSection, AutoshiftSection
from constructs_lib.network import NetworkSection
from constructs_lib.security import SecuritySection
from constructs_lib.storage import StorageSection

__all__ = [
    "PRODUCTION",
    "AppConfig",
    "ConfigError",
    "ContextCacheError",
    "EnvironmentConfig",
    "PipelineSection",
    "Problem",
]

# Context keys of CDK and its CLI (`cdk acknowledge` writes `acknowledged-issue-numbers`).
_FOREIGN_KEY = re.compile(r"^@|:|^acknowledged-issue-numbers$")
_OBJECT = "expected an object (a JSON map of keys to values)"
_EXPECTED_TYPE = {
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "tuple_type": "expected a list",
    "model_type": _OBJECT,
}
# Keys an environment held before it had sections, and where each lives now.
_MOVED_KEYS = {
    **{k: f"network.{k}" for k in (
        "vpcCidr", "natGateways", "interfaceEndpoints", "restrictDefaultSecurityGroup"
    )},
    **{k: f"security.{k}" for k in ("dbPort", "ensureServiceLinkedRole")},
    "emptyBucketsOnDelete": "storage.emptyBucketsOnDelete",
    **{k: f"fleet.{k}" for k in (
        "instanceType", "amiId", "architecture", "minCapacity", "maxCapacity", "appPort",
        "healthCheckPath", "rollout",
    )},
    "releaseArtifact": "fleet.release.artifact",
    "releaseVersionId": "fleet.release.versionId",
    "releaseSha256": "fleet.release.sha256",
    "certificateArn": "edge.certificateArn",
    "domainName": "edge.domain.name",
    "hostedZoneId": "edge.domain.hostedZoneId",
    "hostedZoneName": "edge.domain.hostedZoneName",
    "wafRedactedHeaders": "edge.wafRedactedHeaders",
    "alarmEmail": "alarms.email",
    "notificationEmail": "alarms.notificationEmail",
    "alarmResponseTimeP99Seconds": "alarms.responseTimeP99Seconds",
    "alarmServerErrorRatePercent": "alarms.serverErrorRatePercent",
    "alarmMinimumRequests": "alarms.minimumRequests",
    "alarmElbErrorsPerMinute": "alarms.elbErrorsPerMinute",
    "zonalServerErrorRatePercent": "alarms.zonal.serverErrorRatePercent",
    "zonalResponseTimeP99Seconds": "alarms.zonal.responseTimeP99Seconds",
    "zonalMinimumRequests": "alarms.zonal.minimumRequests",
    "zonalErrorOutlierPoints": "alarms.zonal.errorOutlierPoints",
    "zonalLatencyOutlierRatio": "alarms.zonal.latencyOutlierRatio",
    "zonalAutoshift": "autoshift.enabled",
    "practiceRunBlockedWindows": "autoshift.practiceRunBlockedWindows",
    "practiceRunBlockedDates": "autoshift.practiceRunBlockedDates",
}  # fmt: skip
_REMOVED_KEYS = {
    "desiredCapacity": "no longer supported: the group starts at fleet.minCapacity and scales "
    "between fleet.minCapacity and fleet.maxCapacity; a desired capacity in the template would "
    "reset a scaled-out fleet on every deploy (remove the key)",
}
# The key that carries an environment's name (its key under `environments`) into the model: not
# a key cdk.json can spell, so an environment's own `name` is an unknown key, not overwritten.
_NAME = "@name"


def _distinct_azs(azs: tuple[str, ...]) -> tuple[str, ...]:
    # Counted here, not by min_length: pydantic would count only the items that validated.
    if not 2 <= len(azs) <= 6:
        raise ValueError("expected 2 to 6 availability zones")
    if repeated := sorted({az for az in azs if azs.count(az) > 1}):
        raise ValueError(f"each availability zone may appear once; repeated: {repeated}")
    return azs


class _Placement(Section):
    """Where an environment is deployed: what every section's rules read besides its own values."""

    model_config = ConfigDict(extra="ignore")

    name: SkipJsonSchema[str] = Field(alias="@name")  # _NAME
    emulator: bool = Field(
        False,
        description=f"true: this environment is deployed only into the local AWS emulator "
        f"(account {EMULATOR_ACCOUNT}), never by the pipeline; only such an environment may "
        "switch off network.restrictDefaultSecurityGroup, security.ensureServiceLinkedRole or "
        "storage.emptyBucketsOnDelete",
    )
    account: Account
    region: Region
    availability_zones: Annotated[tuple[str, ...], AfterValidator(_distinct_azs)] = Field(
        strict=False, description="2 to 6 distinct availability zones of region"
    )
    log_retention_days: LogRetentionDays = Field(90, description=f"one of {LOG_RETENTION_DAYS}")

    @property
    def placement(self) -> Placement:
        return Placement(
            name=self.name,
            account=self.account,
            region=self.region,
            availability_zones=self.availability_zones,
            emulator=self.emulator,
        )


class EnvironmentConfig(_Placement):
    """One deployment target: where it is, and one section per component."""

    model_config = ConfigDict(extra="forbid")

    network: NetworkSection
    security: SecuritySection = SecuritySection.defaults()
    storage: StorageSection = StorageSection.defaults()
    edge: EdgeSection = EdgeSection.defaults()
    fleet: FleetSection
    alarms: AlarmsSection = AlarmsSection.defaults()
    autoshift: AutoshiftSection = AutoshiftSection.defaults()

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION

    @property
    def autoshifts(self) -> bool:
        return self.autoshift.on(self.placement)

    @property
    def cross_zone(self) -> bool:
        return self.fleet.cross_zone(self.availability_zones)

    @property
    def empties_buckets_on_delete(self) -> bool:
        return self.storage.empties_on_delete(self.placement)


# The sections whose rules run on their own once they and the placement are well-formed.
_SECTIONS: dict[str, type[Section]] = {
    str(field.alias): typing.cast(type[Section], field.annotation)
    for name, field in EnvironmentConfig.model_fields.items()
    if name not in _Placement.model_fields
}


def _named(environments: Any) -> Any:
    """The `environments` map as a tuple, each environment carrying its key as its name."""
    if not isinstance(environments, dict):
        raise ValueError(_OBJECT)
    if not environments:
        raise ValueError("expected at least one environment")
    return tuple({**e, _NAME: n} if isinstance(e, dict) else e for n, e in environments.items())


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


class AppConfig(Section):
    """The keys of the CDK context that configure this app."""

    model_config = ConfigDict(json_schema_extra={"patternProperties": {_FOREIGN_KEY.pattern: {}}})

    project: Annotated[
        str,
        check(
            is_lower_word, "expected lower-case letters and digits, words joined by single hyphens"
        ),
    ] = Field(description="the `<project>` of every name: lower-case words joined by hyphens")
    owner: str = text(r"\S", "a non-empty string")
    cost_center: str = text(r"\S", "a non-empty string")
    environments: Annotated[
        tuple[EnvironmentConfig, ...],
        BeforeValidator(_named, json_schema_input_type=dict[str, EnvironmentConfig]),
    ] = Field(description="each environment's name (lower-case words) and its settings")
    # Set, it narrows the synth to these environments and leaves the pipeline out.
    env: Annotated[
        tuple[str, ...] | None, BeforeValidator(_split, json_schema_input_type=str | list[str])
    ] = Field(None, strict=False, description="environments to synthesize, comma-separated")
    pipeline: PipelineSection | None = None
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


def _rules(own: Mapping[str, Any], names: list[str]) -> Problems:
    """The rules that relate values to each other. They run over the parts of the context that
    are well-formed on their own (all of it, once it is valid), so one run lists every problem:
    a section's rules wait only for it and its placement. `names`: the configured environments."""
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
    for raw in named:
        if isinstance(raw, dict) and (where := _valid(_Placement, raw)) is not None:
            yield from _placement_problems(where)
            for key, model in _SECTIONS.items():
                # A section left out is its defaults, whose rules hold too (prod without `edge`).
                if (section := _valid(model, raw.get(key, {}))) is not None:
                    yield from getattr(section, "problems", _no_problems)(where.placement)
    environments = [e for e in (_valid(EnvironmentConfig, v) for v in named) if e is not None]
    for env in environments:
        yield from _environment_problems(env)
    for first, second in itertools.combinations(environments, 2):
        at = f"environments.{second.name}"
        first_cidr, second_cidr = first.network.vpc_cidr, second.network.vpc_cidr
        if ipaddress.IPv4Network(first_cidr).overlaps(ipaddress.IPv4Network(second_cidr)):
            taken = f"environments.{first.name}.network.vpcCidr ({first_cidr})"
            allowed = f"overlaps {taken}; VPCs that may be peered need distinct ranges"
            yield Problem(f"{at}.network.vpcCidr", second_cidr, allowed)
        if first.fleet.ami_id == second.fleet.ami_id and first.region != second.region:
            allowed = f"also the amiId of environments.{first.name} in {first.region}; AMI IDs "
            allowed += f"are regional: use the ID of the same image in {second.region}"
            yield Problem(f"{at}.fleet.amiId", second.fleet.ami_id, allowed)
        if (
            (domain := first.edge.domain)
            and second.edge.domain
            and domain.name == second.edge.domain.name
        ):
            allowed = f"also the domain of environments.{first.name}: one name, one tier"
            yield Problem(f"{at}.edge.domain.name", domain.name, allowed)
    if not names:
        return  # nothing to check references against
    for name in _valid_selection(own.get("env")):
        if name not in names:
            yield Problem("env", name, f"not a configured environment; choose from {names}")
    if (rollout := _valid(PipelineWaves, own.get("pipeline"))) is not None:
        # From the raw map: an emulator-only environment stays out of the pipeline even while
        # another of its values is malformed.
        emulators = {e[_NAME] for e in named if isinstance(e, dict) and e.get("emulator") is True}
        yield from _pipeline_problems(rollout, names, emulators)


def _no_problems(placement: Placement) -> Problems:
    return iter(())


_M = TypeVar("_M", bound=pydantic.BaseModel)


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


def _placement_problems(where: _Placement) -> Problems:
    at, region = where.placement.path, where.region
    letters = AVAILABILITY_ZONE_LETTERS.get(region)
    if letters is None:
        allowed = "a region whose availability zones config knows; add its zone letters to "
        allowed += "AVAILABILITY_ZONE_LETTERS in constructs_lib/core/_service_limits.py"
        yield Problem(f"{at}.region", region, allowed)
    for index, az in enumerate(where.availability_zones):
        letter = az.removeprefix(region)
        if letter == az or len(letter) != 1 or (letters is not None and letter not in letters):
            zones = ", ".join(region + known for known in letters or "")
            allowed = f"not an availability zone of region {region}"
            yield Problem(
                f"{at}.availabilityZones[{index}]",
                az,
                f"{allowed}; its zones: {zones}" if letters else allowed,
            )
    if where.emulator and where.account != EMULATOR_ACCOUNT:
        allowed = "an emulator-only environment (emulator: true) deploys into the emulator's "
        allowed += f"account {EMULATOR_ACCOUNT} only: a real account would get it without the "
        allowed += "protections it may switch off; remove emulator or use that account"
        yield Problem(f"{at}.account", where.account, allowed)


def _environment_problems(env: EnvironmentConfig) -> Problems:
    """The rules between components."""
    if env.autoshifts:
        # Practice runs take an AZ away every week: what cannot survive that is an error here
        # (where autoshift is off it is a choice, docs/design.md "Static stability").
        yield from lost_az_problems(env)
    if env.security.db_port == env.fleet.app_port:
        allowed = f"must differ from fleet.appPort ({env.fleet.app_port})"
        yield Problem(f"environments.{env.name}.security.dbPort", env.security.db_port, allowed)


def survivor_cpu_percent(min_capacity: int, az_count: int) -> float:
    """Fleet CPU right after the AZ holding the most of `min_capacity` instances is lost.

    Auto Scaling spreads the group evenly, so one AZ holds at most ceil(min / AZs); target
    tracking keeps the whole fleet near FLEET_CPU_TARGET_PERCENT, and the survivors take the
    lost instances' share before any scale-out (static stability: no launch is needed to cope).
    """
    survivors = min_capacity - math.ceil(min_capacity / az_count)
    return math.inf if survivors <= 0 else FLEET_CPU_TARGET_PERCENT * min_capacity / survivors


def lost_az_problems(env: EnvironmentConfig) -> Problems:
    """What keeps `env` from serving with one AZ gone (its practice runs, a zonal shift)."""
    at, azs = f"environments.{env.name}", len(env.availability_zones)
    floor = env.fleet.min_capacity
    if env.cross_zone:
        allowed = f"at least one instance per AZ ({azs}): cross-zone load balancing is off "
        allowed += "where every AZ holds an instance, and an AZ without one cannot take a share "
        allowed += "of the traffic when another is shifted away"
        yield Problem(f"{at}.fleet.minCapacity", floor, allowed)
    elif (cpu := survivor_cpu_percent(floor, azs)) > LOST_AZ_CPU_CEILING_PERCENT:
        allowed = f"with {azs} AZs, losing the AZ with the most instances leaves the rest at "
        allowed += f"{cpu:.0f}% CPU (the fleet aims at {FLEET_CPU_TARGET_PERCENT}%), above "
        allowed += f"{LOST_AZ_CPU_CEILING_PERCENT}%: use a multiple of the AZ count, or more AZs"
        yield Problem(f"{at}.fleet.minCapacity", floor, allowed)
    if env.network.nat_gateways not in (0, azs):
        allowed = f"0 (AWS-only egress) or one per AZ ({azs}): with fewer, losing the AZ of a NAT "
        allowed += "gateway also cuts the egress of the AZs routed through it"
        yield Problem(f"{at}.network.natGateways", env.network.nat_gateways, allowed)


def _pipeline_problems(
    pipeline: PipelineWaves, names: list[str], emulators: set[str]
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


def _problem(error: ErrorDetails, names: list[str]) -> Problem:
    """pydantic's error as `path = value: what is allowed`, in the words of cdk.json."""
    loc = list(error["loc"])
    if loc[0] == "environments" and len(loc) > 1:
        loc[1] = names[int(loc[1])]  # `_named` made the map a tuple
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    model, key = _located(loc)
    fields = {str(f.alias): f for f in model.model_fields.values() if f.alias != _NAME}
    kind, value = error["type"], error["input"]
    description = getattr(fields.get(str(key)), "description", None)
    if kind == "extra_forbidden":
        if model is EnvironmentConfig and (moved := _MOVED_KEYS.get(str(key))):
            at = path.rsplit(".", 1)[0]
            return Problem(path, value, f"moved: set it as {at}.{moved}")
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


def _located(loc: list[Any]) -> tuple[type[pydantic.BaseModel], Any]:
    """The model and key an error's location names, however deep in the sections it is."""
    model: type[pydantic.BaseModel] = AppConfig
    key = loc[0]
    for index, part in enumerate(loc):
        if isinstance(part, int) or (index == 1 and loc[0] == "environments"):
            continue  # an item of a list, or an environment's name
        key = part
        fields = {str(f.alias): f for f in model.model_fields.values()}
        inner = _model_of(fields[part].annotation) if part in fields else None
        if inner is None or index == len(loc) - 1:
            break
        model = inner
    return model, key


def _model_of(annotation: Any) -> type[pydantic.BaseModel] | None:
    """The model a field holds, through `X | None`, `tuple[X, ...]` and `Annotated`."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple, Annotated):
        for argument in typing.get_args(annotation):
            if (found := _model_of(argument)) is not None:
                return found
    return None
