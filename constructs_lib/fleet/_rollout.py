"""How a release rolls out: the instance-refresh plan of one environment, computed from its config.

Pure Python, no CDK: the config validation, the fleet that sets the update policy and
`make release-plan` all use the same numbers. Auto Scaling counts its healthy percentages against
the group's desired capacity, which the scaling policies move between minCapacity and maxCapacity
while a release runs, so the plan holds for every capacity in that range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The longest evaluation window of the alarms that gate a release (the monitoring component's
# 5xx rate and p99 alarms look at five one-minute periods). A bake or a checkpoint pause shorter
# than this ends before an alarm could have judged the instances it waits for.
ALARM_WINDOW_MINUTES = 5
# The instance-refresh API's limit for BakeTime and CheckpointDelay (172800 seconds).
MAX_WAIT_MINUTES = 2880


@dataclass(frozen=True)
class BatchTiming:
    """What one batch of replacements may take when the release is healthy, in seconds."""

    # From Auto Scaling asking for an instance to its kernel starting.
    launch: int
    # Uptime by which the boot script has the instance healthy in the target group, or gives up.
    healthy_by: int
    # The refresh moves on no sooner than this after a replacement entered InService.
    warmup: int
    # The load balancer drains a replaced instance this long before it is terminated.
    draining: int

    @property
    def seconds(self) -> int:
        # Auto Scaling counts a replacement as done once it is healthy and its warm-up has passed
        # (both measured from InService, so the longer one counts), then terminates the old one.
        return self.launch + max(self.healthy_by, self.warmup) + self.draining


@dataclass(frozen=True)
class RolloutPlan:
    """One environment's instance-refresh preferences and what they cost in time and capacity."""

    min_healthy_percentage: int
    max_healthy_percentage: int
    # Ascending percentages of the group replaced after which the refresh pauses; the last is 100.
    checkpoints: tuple[int, ...]
    checkpoint_delay_minutes: int
    bake_minutes: int
    min_capacity: int
    max_capacity: int
    batch: BatchTiming
    # False only to break glass: no alarm can fail the release (config `rollout.alarmGate`).
    alarm_gate: bool = True

    def batch_size(self, desired: int) -> int:
        """Instances replaced at once at this desired capacity.

        Auto Scaling may run up to max% of the desired capacity and must keep min% of it
        healthy: the difference is what one batch may take. Rounded down, but never below one
        instance (config validation keeps at least one at minCapacity, so the rounding up to one
        is never relied on).
        """
        room = desired * (self.max_healthy_percentage - self.min_healthy_percentage) // 100
        return max(1, room)

    def capacity_floor(self, desired: int) -> int:
        """Healthy instances that stay in service while this many are desired.

        AWS: the minimum healthy percentage is "a percentage of the desired capacity of the Auto
        Scaling group (rounded up to the nearest integer)".
        """
        return math.ceil(desired * self.min_healthy_percentage / 100)

    def peak_instances(self, desired: int) -> int:
        """Instances running at once, old and new, while a batch is replaced."""
        return self.capacity_floor(desired) + self.batch_size(desired)

    def batches(self, desired: int) -> int:
        # A checkpoint can end a batch early: each one may cost one extra, smaller batch.
        pauses = sum(1 for checkpoint in self.checkpoints if checkpoint < 100)
        return math.ceil(desired / self.batch_size(desired)) + pauses

    def release_seconds(self, desired: int) -> int:
        """The longest a healthy release takes at this desired capacity, bake included."""
        return (
            self.batches(desired) * self.batch.seconds
            + len(self.checkpoints) * self.checkpoint_delay_minutes * 60
            + self.bake_minutes * 60
        )

    @property
    def capacities(self) -> range:
        return range(self.min_capacity, self.max_capacity + 1)

    @property
    def worst_case_desired(self) -> int:
        """The desired capacity at which a release takes longest (the larger one on a tie)."""
        return max(self.capacities, key=lambda desired: (self.release_seconds(desired), desired))

    @property
    def worst_case_minutes(self) -> int:
        return math.ceil(self.release_seconds(self.worst_case_desired) / 60)

    @property
    def worst_case_failed_minutes(self) -> int:
        """A release that fails at the end of its bake, then rolls every instance back.

        CloudFormation reads the update policy of the template it rolls back to ("CloudFormation
        reads the UpdatePolicy from the rollback target template", aws-cdk-lib's autoscaling
        guide): the rollback's refresh replaces every batch again, with the same checkpoints and
        bake.
        """
        desired = self.worst_case_desired
        return math.ceil(2 * self.release_seconds(desired) / 60)


def plan_rollout(
    *,
    min_capacity: int,
    max_capacity: int,
    min_healthy_percentage: int,
    max_healthy_percentage: int | None,
    checkpoints: Sequence[int],
    checkpoint_delay_minutes: int,
    bake_minutes: int,
    batch: BatchTiming,
    alarm_gate: bool = True,
) -> RolloutPlan:
    """The plan of one environment; no maxHealthyPercentage means one instance per batch at
    minCapacity, the smallest batch that still launches before it terminates."""
    return RolloutPlan(
        min_healthy_percentage=min_healthy_percentage,
        max_healthy_percentage=(
            max_healthy_percentage
            if max_healthy_percentage is not None
            else smallest_max_healthy_percentage(min_capacity, min_healthy_percentage)
        ),
        checkpoints=tuple(checkpoints),
        checkpoint_delay_minutes=checkpoint_delay_minutes,
        bake_minutes=bake_minutes,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        batch=batch,
        alarm_gate=alarm_gate,
    )


def smallest_max_healthy_percentage(min_capacity: int, min_healthy_percentage: int) -> int:
    """The smallest maximum that leaves room for one whole instance at minCapacity (and is at
    least 100, the API's lower bound)."""
    return max(100, min_healthy_percentage + math.ceil(100 / min_capacity))
