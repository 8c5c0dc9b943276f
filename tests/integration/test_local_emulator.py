"""`make local`'s own promises: its report, its failure message, and no way out to real AWS."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.integration.conftest import Deployment
from tools.cloud_assembly import CloudAssembly, Stack
from tools.dev.emulator import CdkError, Emulator, explain_deploy_failure
from tools.dev.local_emulator import report

pytestmark = pytest.mark.integration

# What the CLI printed when moto could not create the KMS key (before tools/dev/moto_fixes.py).
FAILED_DEPLOY_OUTPUT = """\
Local/Security (local-webapp-security): deploying... [2/3]
local-webapp-security: creating stack...
❌  local-webapp-security failed to deploy
‣ ValidationError: Template error: instance of Fn::GetAtt references undefined resource Key1234
"""


def test_report_shows_each_stack_the_url_and_what_the_api_reads_back(
    deployment: Deployment,
) -> None:
    text = report(deployment.emulator, deployment.assembly)
    for name in deployment.assembly.stack_names:
        assert re.search(rf"^  {name} +CREATE_COMPLETE ", text, re.MULTILINE)
    assert ".LoadBalancerUrl = http" in text
    for zone in deployment.environment.availability_zones:
        assert f"{zone}: public " in text
    fleet = deployment.environment.fleet
    assert (
        f"capacity: min {fleet.min_capacity}, desired {fleet.min_capacity}, "
        f"max {fleet.max_capacity}"
    ) in text
    assert "listener HTTP:80 -> forward to target group" in text
    assert "AWS::WAFv2::WebACL" in text


def test_failed_deploy_names_the_stack_the_resource_and_the_emulators_reason(
    emulator: Emulator, tmp_path: Path
) -> None:
    stack = Stack(
        artifact_id="LocalSecurity",
        path="Local/Security",
        stack_name="local-webapp-security-never-deployed",
        template={"Resources": {"Key1234": {"Type": "AWS::KMS::Key"}}},
    )
    assembly = CloudAssembly(directory=tmp_path, stacks=(stack,))
    output = FAILED_DEPLOY_OUTPUT.replace("local-webapp-security", stack.stack_name)
    message = explain_deploy_failure(emulator, assembly, CdkError(["cdk", "deploy"], 1, output))
    assert message.splitlines()[:2] == [
        f"stack:    {stack.stack_name}",
        "resource: Key1234 (AWS::KMS::Key)",
    ]
    assert "emulator: ValidationError: Template error:" in message
    assert f"{stack.stack_name} not created" in message


def test_cli_environment_reaches_only_the_emulator(emulator: Emulator) -> None:
    env = emulator.environment(
        {"PATH": "/usr/bin", "AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "t", "HOME": "/root"}
    )
    assert env["AWS_ENDPOINT_URL"] == f"http://localhost:{emulator.port}"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("testing", "testing")
    assert not {"AWS_PROFILE", "AWS_SESSION_TOKEN"} & env.keys()
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"


def test_emulator_listens_on_the_loopback_interface_only(emulator: Emulator) -> None:
    assert emulator.address == ("127.0.0.1", emulator.port)
