"""The release plan: batch sizes, the capacity floor and the worst-case duration of a release."""

from __future__ import annotations

import math

import pytest

from constructs_lib.edge import DEREGISTRATION_DELAY
from constructs_lib.fleet import (
    BOOT_DEADLINE_SECONDS,
    INSTANCE_WARMUP,
    LAUNCH_ALLOWANCE_SECONDS,
    RELEASE_BATCH,
    BatchTiming,
    RolloutPlan,
    plan_rollout,
)

# Round numbers, so that the expected durations below can be checked by hand.
MINUTE_BATCH = BatchTiming(launch=60, healthy_by=240, warmup=120, draining=60)  # 6 minutes


def plan(**overrides: object) -> RolloutPlan:
    values: dict[str, object] = {
        "min_capacity": 3,
        "max_capacity": 9,
        "min_healthy_percentage": 100,
        "max_healthy_percentage": None,
        "checkpoints": (),
        "checkpoint_delay_minutes": 10,
        "bake_minutes": 10,
        "batch": MINUTE_BATCH,
    }
    values.update(overrides)
    return plan_rollout(**values)  # type: ignore[arg-type]


def test_a_batch_of_the_fleet_takes_its_launch_the_longer_of_health_and_warmup_and_draining() -> (
    None
):
    assert MINUTE_BATCH.seconds == 60 + 240 + 60
    expected = BatchTiming(
        launch=LAUNCH_ALLOWANCE_SECONDS,
        healthy_by=BOOT_DEADLINE_SECONDS,
        warmup=int(INSTANCE_WARMUP.to_seconds()),
        draining=int(DEREGISTRATION_DELAY.to_seconds()),
    )
    assert expected == RELEASE_BATCH


@pytest.mark.parametrize(
    ("min_capacity", "max_healthy"), [(1, 200), (2, 150), (3, 134), (7, 115), (100, 101)]
)
def test_without_a_maximum_a_release_replaces_one_instance_at_a_time_at_min_capacity(
    min_capacity: int, max_healthy: int
) -> None:
    rollout = plan(min_capacity=min_capacity, max_capacity=min_capacity + 1)

    assert rollout.max_healthy_percentage == max_healthy
    assert rollout.batch_size(min_capacity) == 1


def test_batches_grow_with_the_desired_capacity_rounded_down() -> None:
    rollout = plan(max_healthy_percentage=150)

    assert [rollout.batch_size(d) for d in rollout.capacities] == [1, 2, 2, 3, 3, 4, 4]


def test_capacity_never_dips_below_what_the_fleet_serves_at_100_percent() -> None:
    rollout = plan(max_healthy_percentage=150)

    for desired in rollout.capacities:
        assert rollout.capacity_floor(desired) == desired
        assert rollout.peak_instances(desired) == desired + rollout.batch_size(desired)


def test_a_minimum_below_100_keeps_that_share_rounded_up_as_aws_documents() -> None:
    rollout = plan(min_capacity=5, max_capacity=10, min_healthy_percentage=90)

    assert rollout.capacity_floor(5) == 5  # 4.5 rounded up
    assert rollout.capacity_floor(10) == 9


def test_worst_case_is_every_batch_then_every_checkpoint_pause_then_the_bake() -> None:
    rollout = plan(max_healthy_percentage=150, checkpoints=(25, 100), bake_minutes=15)

    # At 9 instances: batches of 4 -> 3 batches, one more where the 25% checkpoint splits one;
    # 4 x 6 minutes, two pauses of 10 minutes, a bake of 15.
    assert rollout.release_seconds(9) == (4 * 6 + 2 * 10 + 15) * 60
    assert rollout.worst_case_minutes == 4 * 6 + 2 * 10 + 15


def test_worst_case_is_at_the_slowest_capacity_not_necessarily_the_largest() -> None:
    rollout = plan()  # 134%: one instance per batch from 3 to 5 instances, 2 from 6

    assert rollout.worst_case_desired == 5
    assert rollout.worst_case_minutes == 5 * 6 + 10


def test_a_failed_release_costs_its_rollout_twice_as_the_rollback_runs_the_same_policy() -> None:
    # The rollback's refresh follows the rollback target's update policy: every batch, every
    # checkpoint pause and the bake again.
    rollout = plan(max_healthy_percentage=150, bake_minutes=15)
    seconds = rollout.release_seconds(rollout.worst_case_desired)

    assert rollout.worst_case_failed_minutes == math.ceil(2 * seconds / 60)
    assert rollout.worst_case_failed_minutes >= 2 * rollout.worst_case_minutes - 1
