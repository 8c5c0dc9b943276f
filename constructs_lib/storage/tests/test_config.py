"""The `storage` section: whether a teardown empties the buckets."""

from __future__ import annotations

from constructs_lib.core.tests.literal_context import environment, only_problem, parsed


def test_buckets_are_emptied_on_delete_outside_production_by_default() -> None:
    assert parsed(environment("dev")).empties_buckets_on_delete
    assert not parsed(environment("prod")).empties_buckets_on_delete


def test_leaving_full_buckets_behind_outside_prod_and_the_emulator_is_rejected() -> None:
    problem = only_problem(environment("dev", storage={"emptyBucketsOnDelete": False}))

    assert (problem.path, problem.value) == ("environments.dev.storage.emptyBucketsOnDelete", False)
    assert "may be false only in an environment declared emulator-only (emulator: true)" in (
        problem.allowed
    )
    assert "deleting the environment fails on its full buckets" in problem.allowed


def test_the_emulator_environment_may_leave_its_buckets_full() -> None:
    local = parsed(environment("local", storage={"emptyBucketsOnDelete": False}))

    assert not local.empties_buckets_on_delete


def test_production_may_not_empty_its_buckets_on_delete() -> None:
    problem = only_problem(environment("prod", storage={"emptyBucketsOnDelete": True}))

    assert (problem.path, problem.value) == ("environments.prod.storage.emptyBucketsOnDelete", True)
    assert "production keeps its buckets" in problem.allowed


def test_production_may_say_explicitly_that_it_keeps_its_buckets() -> None:
    prod = parsed(environment("prod", storage={"emptyBucketsOnDelete": False}))

    assert not prod.empties_buckets_on_delete


def test_bucket_emptying_that_is_not_true_or_false_is_rejected() -> None:
    problem = only_problem(environment("dev", storage={"emptyBucketsOnDelete": "yes"}))

    assert (problem.path, problem.value, problem.allowed) == (
        "environments.dev.storage.emptyBucketsOnDelete",
        "yes",
        "expected true or false",
    )
