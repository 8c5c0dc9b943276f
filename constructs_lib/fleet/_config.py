"""The `fleet` section of an environment: the instances, their capacity, the release they run and
how a release replaces them."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from constructs_lib.core import (
    Architecture,
    Placement,
    Port,
    Problem,
    Problems,
    Section,
    instance_architecture,
    text,
)
from constructs_lib.fleet._rollout import (
    ALARM_WINDOW_MINUTES,
    MAX_WAIT_MINUTES,
    smallest_max_healthy_percentage,
)


def _ascending_to_100(checkpoints: tuple[int, ...]) -> tuple[int, ...]:
    if list(checkpoints) != sorted(set(checkpoints)):
        raise ValueError("expected percentages in ascending order, each once")
    if checkpoints and checkpoints[-1] != 100:
        raise ValueError("the last checkpoint must be 100, or the refresh stops short of the fleet")
    return checkpoints


_WAIT = f"minutes, {ALARM_WINDOW_MINUTES} (the gating alarms' evaluation window) to "
_WAIT += str(MAX_WAIT_MINUTES)


class RolloutSection(Section):
    """How a release replaces the fleet: healthy percentages, checkpoints, bake.

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


class ReleaseSection(Section):
    """One version of an archive under the artifact bucket's releases/, installed only if its
    digest matches. The version ID keeps the bytes the fleet was deployed with within reach after
    the key is overwritten: every later scale-out downloads that version, not the latest."""

    artifact: str = text(r"^releases/[-A-Za-z0-9._/]+$", "an object key under releases/")
    # S3 version IDs are opaque (up to 1024 characters): checked for shape only, never parsed.
    version_id: str = Field(
        pattern=r"^[!-~]+$",
        max_length=1024,
        description="the S3 version ID of artifact, as `aws s3api put-object` prints it: up to "
        "1024 printable characters without spaces",
    )
    sha256: str = text(r"^[0-9a-f]{64}$", "the release archive's SHA-256: 64 lower-case hex digits")


class FleetSection(Section):
    """The instances: type, image, capacity, the service's port and health check, the release."""

    instance_type: str = text(
        r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$", "an EC2 instance type such as t3.small"
    )
    ami_id: str = text(
        r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$", "an AMI ID such as ami-0123456789abcdef0"
    )
    # The AMI's architecture, which nothing offline can read from its ID: the instance type must
    # run it, or every launch fails at deploy time.
    architecture: Architecture = Field(
        "x86_64", description="the AMI's processor architecture: x86_64 or arm64 (Graviton)"
    )
    min_capacity: int = Field(ge=1, le=1000, description="1 to 1000")
    max_capacity: int = Field(ge=1, le=1000, description="1 to 1000")
    # The AMI's root snapshot is the floor (8 GiB for Amazon Linux 2023): EC2 refuses a launch
    # whose volume is smaller than the snapshot it is created from.
    root_volume_gib: int = Field(
        20,
        ge=8,
        le=16384,
        description="the root volume in GiB: 8 (Amazon Linux 2023's snapshot) to 16384 (gp3)",
    )
    app_port: Port = 8080
    health_check_path: str = text(
        r"^/[-A-Za-z0-9._~/]*$", "a URL path starting with '/'", "/health"
    )
    # None runs the bundled service.
    release: ReleaseSection | None = Field(
        None,
        description="the archive the instances install: its key under releases/, its S3 "
        "version ID and its SHA-256; none runs the bundled service",
    )
    rollout: RolloutSection = RolloutSection.defaults()

    def cross_zone(self, availability_zones: tuple[str, ...]) -> bool:
        """Cross-zone load balancing stays on unless every AZ holds an instance at the floor: a
        load-balancer node without a target in its own AZ could not serve its share."""
        return self.min_capacity < len(availability_zones)

    def problems(self, placement: Placement) -> Problems:
        at = f"{placement.path}.fleet"
        if (runs := instance_architecture(self.instance_type)) != self.architecture:
            allowed = f"a {runs} instance type; the AMI is {self.architecture} (architecture): "
            allowed += f"choose a {self.architecture} type, or an {runs} AMI and set architecture"
            yield Problem(f"{at}.instanceType", self.instance_type, allowed)
        if self.min_capacity >= self.max_capacity:
            allowed = f"must be below maxCapacity ({self.max_capacity}): the group scales between "
            allowed += "them, and a release launches replacements before it terminates"
            yield Problem(f"{at}.minCapacity", self.min_capacity, allowed)
        rollout = self.rollout
        lowest, highest = rollout.min_healthy_percentage, rollout.max_healthy_percentage
        if placement.is_production and lowest != 100:
            allowed = "production keeps the whole capacity it serves while a release replaces "
            allowed += "instances: 100"
            yield Problem(f"{at}.rollout.minHealthyPercentage", lowest, allowed)
        if highest is None:
            return
        if highest - lowest > 100:
            allowed = f"at most 100 above minHealthyPercentage ({lowest}): Auto Scaling's limit"
            yield Problem(f"{at}.rollout.maxHealthyPercentage", highest, allowed)
        elif self.min_capacity * (highest - lowest) < 100:
            smallest = smallest_max_healthy_percentage(self.min_capacity, lowest)
            allowed = f"leaves no room for one instance at minCapacity ({self.min_capacity}), so "
            allowed += f"no release could start: at least {smallest} (or leave it out)"
            yield Problem(f"{at}.rollout.maxHealthyPercentage", highest, allowed)
