"""`Naming.problems`, which config validation runs: every fixed physical name, each checked."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial

from constructs_lib.core import COMPONENTS, InvalidNameError, Naming

# Long enough to break the limit of every kind of name the convention makes.
TOO_LONG = Naming(environment="dev", project="p" * 600)
# Each method with arguments -> the arguments that give a fixed name `problems` must check, or None
# for a builder: the fixed-name methods use it, and it checks each name as it makes it.
WITH_ARGUMENTS: dict[str, list[tuple[str, ...]] | None] = {
    "name": None,
    "stack_name": [(component,) for component in COMPONENTS],
    "log_group_name": None,
    "kms_alias": None,
    # Alarm names are chosen by the monitoring package; each is checked as its alarm is named.
    "alarm_name": None,
}
# Methods without arguments that give no physical name: IAM policy patterns, and the check itself.
NOT_NAMES = {"alarm_name_pattern", "log_group_name_patterns", "problems"}


def public_methods() -> dict[str, Callable[..., object]]:
    return {
        name: method
        for name, method in inspect.getmembers(Naming, inspect.isfunction)
        if not name.startswith("_")
    }


def takes_arguments(method: Callable[..., object]) -> bool:
    return len(inspect.signature(method).parameters) > 1  # more than self


def fixed_names() -> dict[str, Callable[[], object]]:
    """Every fixed name of `TOO_LONG` -> how it is produced."""
    found: dict[str, Callable[[], object]] = {}
    for name, method in public_methods().items():
        if not takes_arguments(method) and name not in NOT_NAMES:
            found[f"{name}()"] = partial(method, TOO_LONG)
        for arguments in WITH_ARGUMENTS.get(name) or []:
            found[f"{name}{arguments}"] = partial(method, TOO_LONG, *arguments)
    return found


def rejection(produce: Callable[[], object]) -> str | None:
    try:
        produce()
    except InvalidNameError as error:
        return str(error)
    return None  # a name over every limit passed: no checked name


def test_every_naming_method_with_arguments_says_which_fixed_names_it_gives() -> None:
    undeclared = [
        name
        for name, method in public_methods().items()
        if takes_arguments(method) and name not in WITH_ARGUMENTS
    ]

    assert undeclared == []


def test_problems_report_every_fixed_name_aws_would_reject_including_ones_added_later() -> None:
    reported = TOO_LONG.problems()

    missed = [
        label for label, produce in fixed_names().items() if rejection(produce) not in reported
    ]

    assert missed == [], "mark each with @_fixed_name, or list it in NOT_NAMES"
    assert len(reported) == len(fixed_names())


def test_names_within_every_limit_have_no_problems() -> None:
    assert Naming(environment="prod", project="webapp").problems() == []
