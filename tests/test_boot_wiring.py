"""The boot script as the app wires it into prod's compute stack: the stack, group and target
group it names, and the log group and metric namespace the security stack made for it.

What the script does is the fleet's own test (constructs_lib/fleet/tests/test_boot_script.py, on
a Fleet built alone); these run it on the session app's template for what only the app connects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.config import AppConfig, EnvironmentConfig
from constructs_lib.core import COMPUTE, SECURITY
from constructs_lib.fleet.tests.boot_harness import (
    FAKE_INSTANCE_ID,
    FAKE_TARGET_GROUP_ARN,
    BootRun,
    Scenario,
    only_signal,
    option,
    render_user_data,
    run_boot_script,
)
from tests.template_utils import document, statements

ENVIRONMENT = "prod"


@pytest.fixture(scope="module")
def environment(context: dict[str, Any]) -> EnvironmentConfig:
    config = AppConfig.from_context(context)
    return next(e for e in config.environments if e.name == ENVIRONMENT)


@pytest.fixture(scope="module")
def compute_template(templates: dict[str, dict[str, Template]]) -> Mapping[str, Any]:
    return document(templates[ENVIRONMENT][COMPUTE])


@pytest.fixture
def boot(compute_template: Mapping[str, Any], tmp_path: Path) -> Callable[[Scenario], BootRun]:
    user_data = render_user_data(compute_template)

    def run(scenario: Scenario) -> BootRun:
        return run_boot_script(user_data, scenario, tmp_path)

    return run


def test_prods_instances_signal_the_compute_stacks_group_by_its_deployed_name_and_poll_its_targets(
    boot: Callable[[Scenario], BootRun],
    compute_template: Mapping[str, Any],
    context: dict[str, Any],
    environment: EnvironmentConfig,
) -> None:
    (group_logical_id,) = (
        logical_id
        for logical_id, resource in compute_template["Resources"].items()
        if resource["Type"] == "AWS::AutoScaling::AutoScalingGroup"
    )

    run = boot(Scenario(target_states=("initial", "healthy")))

    signal = only_signal(run)
    assert signal["-e"] == "0"
    # The stage passes exactly this name as `stack_name=`.
    assert signal["--stack"] == AppConfig.from_context(context).naming(environment).stack_name(
        COMPUTE
    )
    assert signal["--resource"] == group_logical_id
    assert signal["--region"] == environment.region
    # The fake ARN stands for a Ref to a target group of this same template.
    assert len(run.target_health_polls) == 2, run.stderr
    for poll in run.target_health_polls:
        assert option(poll, "--target-group-arn") == FAKE_TARGET_GROUP_ARN
        assert option(poll, "--targets") == (
            f"Id={FAKE_INSTANCE_ID},Port={environment.fleet.app_port}"
        )


def test_prods_agent_writes_to_the_security_stacks_log_group_in_the_namespace_its_role_allows(
    boot: Callable[[Scenario], BootRun], templates: dict[str, dict[str, Template]]
) -> None:
    security = templates[ENVIRONMENT][SECURITY]
    log_groups = [
        group["Properties"]["LogGroupName"]
        for group in security.find_resources("AWS::Logs::LogGroup").values()
        if str(group["Properties"].get("LogGroupName", "")).endswith("/instances")
    ]
    allowed = [
        statement["Condition"]["StringEquals"]["cloudwatch:namespace"]
        for _, statement in statements(security)
        if statement["Action"] == "cloudwatch:PutMetricData"
    ]

    run = boot(Scenario())

    collected = run.agent_config["logs"]["logs_collected"]["files"]["collect_list"]
    assert len(log_groups) == 1, log_groups
    assert {c["log_group_name"] for c in collected} == set(log_groups)
    assert [run.agent_config["metrics"]["namespace"]] == allowed
