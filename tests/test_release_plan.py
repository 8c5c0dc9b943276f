"""Each configured environment's release plan, and the table of it that `make release-plan`
prints and writes into docs/design.md (tools/release_plan.py). How a plan is computed is the
fleet's own test (constructs_lib/fleet/tests/test_rollout.py)."""

from __future__ import annotations

import pytest

from constructs_lib.config import AppConfig
from constructs_lib.fleet import release_plan
from tools.context import fixture_context
from tools.release_plan import DOCUMENTED, plan_table


@pytest.mark.parametrize(
    ("name", "capacities"),
    # Every desired capacity from the fixture's minCapacity to its maxCapacity.
    [
        ("dev", [1, 2, 3]),
        ("staging", [2, 3, 4]),
        ("prod", [3, 4, 5, 6, 7, 8, 9]),
        ("local", [1, 2, 3]),
    ],
)
def test_every_committed_environment_keeps_its_capacity_during_a_release(
    name: str, capacities: list[int]
) -> None:
    config = AppConfig.from_context(fixture_context())
    (environment,) = (e for e in config.environments if e.name == name)
    rollout = release_plan(environment.fleet)

    assert list(rollout.capacities) == capacities
    assert [rollout.capacity_floor(d) for d in capacities] == capacities
    assert all(rollout.batch_size(d) >= 1 for d in capacities)
    assert rollout.bake_minutes >= 5


def test_the_readme_states_the_worst_case_that_make_release_plan_computes() -> None:
    table = plan_table(AppConfig.from_context(fixture_context()))

    assert DOCUMENTED.read() == table, "run: make release-plan README=1"


def test_make_diff_prints_the_release_plan_of_its_environment_only() -> None:
    table = plan_table(AppConfig.from_context(fixture_context()), ["staging"])

    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert [row.split("|")[1].strip() for row in rows[1:]] == ["staging"]
