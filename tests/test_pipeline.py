"""The self-mutating delivery pipeline."""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.config import AppConfig, ConfigError
from stacks.factory import create_app
from stacks.pipeline_stack import PipelineStack
from tests.conftest import REPO, Synthesized
from tests.template_utils import only, template_of
from tools.cloud_assembly import read
from tools.context import fixture_context


@pytest.fixture(scope="module")
def pipeline_stack(synthesized: Synthesized) -> PipelineStack:
    stack = synthesized.app.node.find_child("webapp-pipeline")
    assert isinstance(stack, PipelineStack)
    return stack


@pytest.fixture(scope="module")
def template(synthesized: Synthesized) -> Template:
    return template_of(synthesized.assembly.stack("webapp-pipeline").template)


@pytest.fixture(scope="module")
def stages(template: Template) -> list[dict[str, Any]]:
    _, pipeline = only(template, "AWS::CodePipeline::Pipeline")
    found: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return found


def actions(stages: list[dict[str, Any]], stage: str) -> list[dict[str, Any]]:
    (found,) = [s["Actions"] for s in stages if s["Name"] == stage]
    return sorted(found, key=lambda a: a["RunOrder"])


def buildspec(template: Template, logical_id_fragment: str) -> dict[str, Any]:
    projects = template.find_resources("AWS::CodeBuild::Project")
    (project,) = [p for k, p in projects.items() if logical_id_fragment in k]
    spec: dict[str, Any] = json.loads(project["Properties"]["Source"]["BuildSpec"])
    return spec


def test_stages_run_source_build_self_update_then_environments_in_order(
    stages: list[dict[str, Any]],
) -> None:
    # No "Assets" stage: the environments have no asset besides their templates (cdk-assets
    # cannot read this library's cloud-assembly schema; tests/test_deploy_safety.py).
    assert [s["Name"] for s in stages] == [
        "Source",
        "Build",
        "UpdatePipeline",
        "Dev",
        "Staging",
        "Prod",
    ]


def test_source_is_the_configured_connection_and_branch(
    stages: list[dict[str, Any]], context: dict[str, Any]
) -> None:
    (source,) = actions(stages, "Source")
    config = context["pipeline"]

    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == config["connectionArn"]
    assert source["Configuration"]["FullRepositoryId"] == config["repository"]
    assert source["Configuration"]["BranchName"] == config["branch"]


def test_synth_step_runs_the_deploy_gate_and_not_the_development_checks(
    template: Template,
) -> None:
    spec = buildspec(template, "BuildSynth")

    assert spec["phases"]["build"]["commands"] == ["make pipeline-synth"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    makefile = (REPO / "Makefile").read_text()
    gate = re.search(r"^pipeline-synth: ([^#\n]*)", makefile, re.M)
    assert gate is not None
    assert set(gate[1].split()) == {"lint", "typecheck", "unit", "scan"}
    assert re.search(r"^test: pipeline-synth dev-checks\b", makefile, re.M)


def test_self_mutation_uses_the_cli_version_pinned_in_package_json(template: Template) -> None:
    spec = buildspec(template, "SelfMutation")
    pinned = json.loads((REPO / "package.json").read_text())["devDependencies"]["aws-cdk"]

    assert spec["phases"]["install"]["commands"] == [f"npm install -g aws-cdk@{pinned}"]
    assert spec["phases"]["build"]["commands"] == [
        "cdk -a . deploy webapp-pipeline --require-approval=never --verbose"
    ]


def test_manual_approval_comes_before_prod_and_nowhere_else(
    stages: list[dict[str, Any]],
) -> None:
    approvals = {
        stage["Name"]: [
            a["Name"] for a in stage["Actions"] if a["ActionTypeId"]["Category"] == "Approval"
        ]
        for stage in stages
    }
    prod = actions(stages, "Prod")

    assert {k: v for k, v in approvals.items() if v} == {"Prod": ["ApproveProd"]}
    # Only the change-safety check comes before it: the approver reads its report first.
    assert [a["Name"] for a in prod[:2]] == ["ChangeSafetyProd", "ApproveProd"]
    assert prod[0]["RunOrder"] < prod[1]["RunOrder"] < min(a["RunOrder"] for a in prod[2:])


@pytest.mark.parametrize(
    ("stage", "account"),
    [("Dev", "111111111111"), ("Staging", "222222222222"), ("Prod", "333333333333")],
)
def test_each_environment_is_checked_for_unsafe_changes_before_anything_deploys(
    stages: list[dict[str, Any]], template: Template, stage: str, account: str
) -> None:
    ordered = actions(stages, stage)
    check = ordered[0]
    assert check["Name"] == f"ChangeSafety{stage}"
    assert check["RunOrder"] < min(a["RunOrder"] for a in ordered if a["Name"].endswith(".Deploy"))
    # It reads the synth step's cloud assembly, not a synth of its own.
    assert len(check["InputArtifacts"]) == 2
    spec = buildspec(template, f"ChangeSafety{stage}")
    assert spec["phases"]["build"]["commands"][-1] == (
        f"make change-sets ENV={stage.lower()} ASSUME_BOOTSTRAP_ROLES=1"
    )
    # It may assume exactly the target account's deploy and file-publishing roles, the roles
    # tools/change_safety/change_sets.py assumes.
    from tools.change_safety.change_sets import bootstrap_role

    policies = template.find_resources("AWS::IAM::Policy")
    assumed = [
        statement["Resource"]
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sts:AssumeRole"
        and bootstrap_role("deploy", account, "us-east-1") in json.dumps(statement["Resource"])
    ]
    assert assumed == [
        [bootstrap_role(kind, account, "us-east-1") for kind in ("deploy", "file-publishing")]
    ]


@pytest.mark.parametrize("stage", ["Dev", "Staging", "Prod"])
def test_smoke_test_follows_each_environment_with_its_own_health_url(
    stages: list[dict[str, Any]], stage: str
) -> None:
    ordered = actions(stages, stage)
    smoke = ordered[-1]
    deploy = next(a for a in ordered if a["Name"] == f"{stage.lower()}-webapp-compute.Deploy")

    assert smoke["Name"] == f"SmokeTest{stage}"
    assert smoke["RunOrder"] > deploy["RunOrder"]
    variables = json.loads(smoke["Configuration"]["EnvironmentVariables"])
    assert variables == [
        {
            "name": "HEALTH_CHECK_URL",
            "type": "PLAINTEXT",
            "value": f"#{{{deploy['Namespace']}.HealthCheckUrl}}",
        }
    ]


def test_smoke_test_step_runs_the_repository_script(template: Template) -> None:
    spec = buildspec(template, "ProdSmokeTest")

    assert spec["phases"]["build"]["commands"] == ['bash tools/smoke_test.sh "$HEALTH_CHECK_URL"']


def run_smoke_test(url: str, attempts: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "tools" / "smoke_test.sh"), url, str(attempts), "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextmanager
def serving_health(tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """A local server whose /health answers 200 (anything else 503); yields its port."""
    server = HTTPServer(("127.0.0.1", 0), _Health)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_smoke_test_passes_when_the_health_path_answers_200() -> None:
    with serving_health() as port:
        result = run_smoke_test(f"http://127.0.0.1:{port}/health", attempts=3)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "answered 200 (attempt 1)" in result.stdout


def test_smoke_test_fails_after_its_bounded_attempts_when_nothing_answers_200() -> None:
    with serving_health() as port:
        result = run_smoke_test(f"http://127.0.0.1:{port}/broken", attempts=3)

    assert result.returncode == 1
    assert result.stdout.count("answered 503") == 3
    assert "after 3 attempts" in result.stderr


def test_artifacts_are_encrypted_with_a_rotating_customer_managed_key(template: Template) -> None:
    _, pipeline = only(template, "AWS::CodePipeline::Pipeline")
    key_id, key = only(template, "AWS::KMS::Key")
    store = pipeline["Properties"]["ArtifactStore"]

    assert store["EncryptionKey"] == {"Id": {"Fn::GetAtt": [key_id, "Arn"]}, "Type": "KMS"}
    assert key["Properties"]["EnableKeyRotation"] is True


def test_pipeline_deploys_the_very_stages_that_cdk_deploy_selects(
    synthesized: Synthesized, pipeline_stack: PipelineStack, stages: list[dict[str, Any]]
) -> None:
    template_paths = {
        action["Configuration"]["TemplatePath"].split("::", 1)[1]
        for stage in stages
        for action in stage["Actions"]
        if "TemplatePath" in action.get("Configuration", {})
    }
    expected = set()
    for stage in pipeline_stack.stages.values():
        # One object per environment: what `cdk deploy` selects is what the pipeline ships.
        assert synthesized.app.node.find_child(stage.node.id) is stage
        expected |= {
            f"{stage.artifact_id}/{stack.artifact_id}.template.json"
            for stack in stage.stacks.values()
        }
    assert template_paths == expected


def test_the_cloud_assembly_holds_each_environment_once(synthesized: Synthesized) -> None:
    stack_names = synthesized.assembly.stack_names
    assert len(stack_names) == len(set(stack_names)), sorted(stack_names)
    assert len(stack_names) == 1 + 3 * len(synthesized.templates)


def test_pipeline_stack_is_named_after_the_project(pipeline_stack: PipelineStack) -> None:
    assert pipeline_stack.stack_name == "webapp-pipeline"


def test_without_pipeline_context_the_environments_synthesize_alone(tmp_path: Path) -> None:
    context = fixture_context()
    del context["pipeline"]

    app = create_app(context, outdir=str(tmp_path))

    assert app.node.try_find_child("webapp-pipeline") is None
    assert [c.node.id for c in app.node.children] == ["Dev", "Staging", "Prod", "Local"]


def test_narrowing_to_one_environment_leaves_the_pipeline_out(tmp_path: Path) -> None:
    app = create_app({**fixture_context(), "env": "dev"}, outdir=str(tmp_path))

    assert [type(c).__name__ for c in app.node.children] == ["WebTierStage"]
    assert not any(isinstance(c, PipelineStack) for c in app.node.find_all())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("connectionArn", "arn:aws:s3:::bucket", "connection ARN"),
        ("repository", "no-slash", "owner/name"),
        ("environments", ["dev", "qa", "prod"], "configured environment"),
        ("environments", ["local", "prod"], "emulator only"),
        ("environments", ["dev", "dev", "prod"], "appear once"),
        ("environments", [], "expected a list of environments"),
        ("environments", "prod", "expected a list of environments"),
        ("environments", [["dev", ["qa"]], "prod"], "expected a string"),
        ("manualApproval", ["staging", "qa"], "the pipeline deploys"),
        ("accountId", "444444444444", "unknown key"),
    ],
)
def test_bad_pipeline_config_names_the_key(key: str, value: Any, message: str) -> None:
    context = fixture_context()
    context["pipeline"][key] = value

    with pytest.raises(ConfigError) as raised:
        AppConfig.from_context(context)

    (problem,) = raised.value.problems
    assert problem.path.startswith(f"pipeline.{key}")
    assert message in problem.allowed


def test_environments_of_one_wave_deploy_in_parallel(tmp_path: Path) -> None:
    context = fixture_context()
    context["pipeline"]["environments"] = [["dev", "staging"], "prod"]
    context["environments"].pop("local")

    # Only the pipeline's stages are in question: the session synth runs the template validation.
    app = create_app(context, outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    app.synth()
    template = Template.from_json(read(tmp_path).stack("webapp-pipeline").template)
    _, pipeline = only(template, "AWS::CodePipeline::Pipeline")
    stages = pipeline["Properties"]["Stages"]

    names = [s["Name"] for s in stages]
    assert names[-2:] == ["DevAndStaging", "Prod"]
    (wave,) = [s["Actions"] for s in stages if s["Name"] == "DevAndStaging"]
    prepares = [a for a in wave if "TemplatePath" in a.get("Configuration", {})]
    # One CodePipeline stage, both environments' first stacks prepared in the same run order.
    assert {a["Configuration"]["StackName"] for a in prepares} >= {
        "dev-webapp-network",
        "staging-webapp-network",
    }
    first = min(a["RunOrder"] for a in prepares)
    assert {a["Configuration"]["StackName"] for a in prepares if a["RunOrder"] == first} == {
        "dev-webapp-network",
        "staging-webapp-network",
    }
    assert app.node.try_find_child("webapp-pipeline") is not None


def fake_curl(tmp_path: Path) -> Path:
    """A `curl` that records its arguments and answers 200, first on PATH."""
    (tmp_path / "bin").mkdir()
    curl = tmp_path / "bin" / "curl"
    curl.write_text(f'#!/usr/bin/env bash\necho "$@" >> {tmp_path / "args"}\nprintf 200\n')
    curl.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize(
    ("url", "verified"),
    [
        ("https://app.example.com/health", True),
        ("https://app.staging.example.com:443/health", True),
        ("https://prod-webapp-alb-123.us-east-1.elb.amazonaws.com/health", False),
        ("http://dev-webapp-alb-123.us-east-1.elb.amazonaws.com/health", True),
    ],
)
def test_smoke_test_verifies_tls_except_on_the_load_balancers_generated_hostname(
    tmp_path: Path, url: str, verified: bool
) -> None:
    fake_curl(tmp_path)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(REPO / "tools" / "smoke_test.sh"), url, "1", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert ("--insecure" not in (tmp_path / "args").read_text()) == verified


def test_smoke_test_fails_on_a_certificate_it_cannot_verify(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [*request, "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with serving_health(tls) as port:
        result = run_smoke_test(f"https://localhost:{port}/health", attempts=1)

    assert result.returncode == 1
    assert "certificate" in result.stdout.lower()
