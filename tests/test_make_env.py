"""`ENV=` as make receives it: a typo or a space is a clear error before any CDK process starts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tools.environments import COMMANDS, problems

REPO = Path(__file__).resolve().parents[1]
NAMES = ("dev", "staging", "prod", "local")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_space_between_environments_is_an_error_that_shows_the_comma_form(command: str) -> None:
    (problem,) = problems(command, "dev prod", NAMES)

    assert "ENV='dev prod'" in problem
    assert "ENV=dev,staging" in problem
    assert "dev, staging, prod, local" in problem


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_environment_is_named_with_the_configured_ones(command: str) -> None:
    (problem,) = problems(command, "dev,qa", NAMES)

    assert "'qa' is not configured" in problem
    assert "dev, staging, prod, local" in problem


@pytest.mark.parametrize("command", ["diff", "deploy", "destroy"])
def test_commands_against_an_account_need_an_environment_and_list_them(command: str) -> None:
    (problem,) = problems(command, "", NAMES)

    assert f"make {command} needs ENV=<environment>" in problem
    assert "dev, staging, prod, local" in problem


def test_synth_without_env_builds_every_environment() -> None:
    assert problems("synth", "", NAMES) == []


def test_synth_takes_several_environments() -> None:
    assert problems("synth", "dev,staging", NAMES) == []


@pytest.mark.parametrize("command", ["diff", "deploy", "destroy"])
def test_commands_against_an_account_take_one_environment_at_a_time(command: str) -> None:
    (problem,) = problems(command, "dev,staging", NAMES)

    assert "one environment at a time" in problem


def test_destroy_refuses_production_and_points_to_the_runbook() -> None:
    (problem,) = problems("destroy", "prod", NAMES)

    assert "refuses production" in problem
    assert "README" in problem


def test_destroy_takes_a_non_production_environment() -> None:
    assert problems("destroy", "staging", NAMES) == []


@pytest.mark.parametrize(
    ("target", "env", "message"),
    [
        ("synth", "dev prod", "separate environments with commas"),
        ("deploy", "", "make deploy needs ENV=<environment>"),
        ("destroy", "prod", "make destroy refuses production"),
    ],
)
def test_make_checks_env_before_any_cdk_command_runs(target: str, env: str, message: str) -> None:
    completed = subprocess.run(
        ["make", "--no-print-directory", target, f"ENV={env}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode != 0
    assert message in completed.stderr
    assert "cdk --no-notices" not in completed.stdout


def test_the_readmes_command_table_and_make_help_list_the_same_targets() -> None:
    help_text = subprocess.run(
        ["make", "--no-print-directory", "-s", "help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    targets = {line.split()[0] for line in help_text.splitlines() if line.strip()}
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("## Commands") : readme.index("## Deploying")]
    documented = set(re.findall(r"^\| `make ([a-z-]+)", table, re.M))

    assert documented == targets
