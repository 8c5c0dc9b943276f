"""The `security` section: the database tier's port and the service-linked-role guard."""

from __future__ import annotations

import pytest

from constructs_lib.core.tests.literal_context import environment, only_problem, parsed


def test_db_port_and_the_service_linked_role_guard_take_their_defaults_when_left_out() -> None:
    security = parsed(environment("dev")).security

    assert (security.db_port, security.ensure_service_linked_role) == (5432, True)


def test_db_port_22_is_rejected_because_access_goes_through_session_manager() -> None:
    problem = only_problem(environment("dev", security={"dbPort": 22}))

    assert (problem.path, problem.value) == ("environments.dev.security.dbPort", 22)
    assert "port 22 is not allowed" in problem.allowed


@pytest.mark.parametrize("port", [0, 65536])
def test_db_port_outside_the_tcp_range_is_rejected(port: int) -> None:
    problem = only_problem(environment("dev", security={"dbPort": port}))

    assert (problem.path, problem.value) == ("environments.dev.security.dbPort", port)
    assert "TCP port from 1 to 65535" in problem.allowed


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_skipping_the_service_linked_role_outside_the_emulator_is_rejected(name: str) -> None:
    problem = only_problem(environment(name, security={"ensureServiceLinkedRole": False}))

    assert (problem.path, problem.value) == (
        f"environments.{name}.security.ensureServiceLinkedRole",
        False,
    )
    assert "may be false only in an environment declared emulator-only (emulator: true)" in (
        problem.allowed
    )


def test_service_linked_role_switch_outside_the_emulator_names_the_rejected_key_policy() -> None:
    problem = only_problem(environment("prod", security={"ensureServiceLinkedRole": False}))

    assert "KMS rejects the key policy" in problem.allowed


def test_the_emulator_environment_may_skip_the_service_linked_role() -> None:
    local = parsed(environment("local", security={"ensureServiceLinkedRole": False}))

    assert not local.security.ensure_service_linked_role


def test_service_linked_role_switch_that_is_not_true_or_false_is_rejected() -> None:
    problem = only_problem(environment("dev", security={"ensureServiceLinkedRole": 0}))

    assert (problem.path, problem.value, problem.allowed) == (
        "environments.dev.security.ensureServiceLinkedRole",
        0,
        "expected true or false",
    )
