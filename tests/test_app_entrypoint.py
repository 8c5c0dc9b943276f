"""`app.py` run as the CDK CLI runs it: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR.

One bad value must end the run with a list of what to fix, not a traceback and not half a cloud
assembly. The app runs once per context for the session; each test checks one part of an outcome.
The three runs start together, in the background, when the first test asks for one: on a
two-core machine they overlap with the session's own synth instead of queueing behind it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from tests.conftest import REPO, Synthesized
from tools.cloud_assembly import read
from tools.context import cdk_json_context, fixture_context

BAD_PATH = "environments.prod.network.vpcCidr"
BAD_VALUE = "8.8.0.0/16"


def development_only_modules() -> list[str]:
    """Top-level modules that no package of the runtime set (requirements.txt) provides."""
    pins = re.findall(r"^([A-Za-z0-9._-]+)==", (REPO / "requirements.txt").read_text(), re.M)
    runtime = {re.sub(r"[-_.]+", "-", pin).lower() for pin in pins}
    return sorted(
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if not {re.sub(r"[-_.]+", "-", d).lower() for d in distributions} & runtime
    )


def start_app(context: dict[str, object], outdir: Path) -> Started:
    """app.py exactly as cdk.json's `app` command starts it (interpreter flags included), able to
    import only what requirements.txt installs: a pipeline or a deploy host has nothing else."""
    command = json.loads((REPO / "cdk.json").read_text())["app"].split()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CDK_CONTEXT_JSON", "CONTEXT_OVERFLOW_LOCATION_ENV", "CDK_OUTDIR"}
    }
    env["CDK_CONTEXT_JSON"] = json.dumps(context)
    env["CDK_OUTDIR"] = str(outdir)
    # `sitecustomize` runs before app.py; a module set to None in sys.modules cannot be imported.
    # At exit it lists each venv module the run had to compile (no cached file for its level).
    blocker = outdir.parent / f"{outdir.name}-runtime-only"
    blocker.mkdir()
    blocked = development_only_modules()
    (blocker / "sitecustomize.py").write_text(
        f"import sys\nsys.modules.update(dict.fromkeys({blocked!r}))\n"
        + UNCACHED_AT_EXIT.format(report=str(uncached_report(outdir)))
    )
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    node = REPO / "node_modules" / ".bin" / "node"
    if node.exists():
        env["JSII_NODE"] = str(node)
    stderr = (outdir.parent / f"{outdir.name}-stderr.txt").open("w+")
    process = subprocess.Popen(
        [sys.executable, *command[1:]],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )
    return Started(process=process, stderr=stderr, outdir=outdir)


UNCACHED_AT_EXIT = """
import atexit, importlib.util, json, os

def _uncached():
    level = sys.flags.optimize or ""
    modules = [m for m in list(sys.modules.values()) if m is not None]
    files = [getattr(m, "__file__", None) or "" for m in modules]
    with open({report!r}, "w") as report:
        json.dump(sorted({{
            f for f in files
            if f.startswith(sys.prefix) and f.endswith(".py")
            and not os.path.exists(importlib.util.cache_from_source(f, optimization=level))
        }}), report)

atexit.register(_uncached)
"""


def uncached_report(outdir: Path) -> Path:
    return outdir.parent / f"{outdir.name}-uncached.json"


@dataclass(frozen=True)
class Run:
    returncode: int
    stderr: str
    outdir: Path


@dataclass(frozen=True)
class Started:
    process: subprocess.Popen[str]
    stderr: IO[str]
    outdir: Path

    def wait(self) -> Run:
        returncode = self.process.wait(timeout=300)
        self.stderr.seek(0)
        return Run(returncode=returncode, stderr=self.stderr.read(), outdir=self.outdir)


@pytest.fixture(scope="session")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Started]]:
    """The runs of this module, started at once."""
    bad = fixture_context()
    bad["environments"]["prod"]["network"]["vpcCidr"] = BAD_VALUE
    contexts = {"bad value": bad, "fixture": fixture_context(), "cdk.json": cdk_json_context()}
    # While cdk.json still holds the example values, its run is the fixture's: one synth less.
    same = contexts["cdk.json"] == contexts["fixture"]
    runs = {
        name: start_app(c, tmp_path_factory.mktemp("cdk.out"))
        for name, c in contexts.items()
        if not (same and name == "cdk.json")
    }
    yield {**runs, "cdk.json": runs["fixture"]} if same else runs
    for run in runs.values():
        if run.process.poll() is None:
            run.process.kill()
        run.process.wait()
        run.stderr.close()


@pytest.fixture(scope="session")
def run_with_bad_value(started: dict[str, Started]) -> Run:
    return started["bad value"].wait()


def test_app_exits_with_status_1_on_a_bad_config_value(run_with_bad_value: Run) -> None:
    assert run_with_bad_value.returncode == 1, run_with_bad_value.stderr


def test_app_names_the_bad_key_path_and_value_on_stderr(run_with_bad_value: Run) -> None:
    assert f'{BAD_PATH} = "{BAD_VALUE}"' in run_with_bad_value.stderr


def test_app_reports_a_bad_config_value_without_a_traceback(run_with_bad_value: Run) -> None:
    assert "Traceback" not in run_with_bad_value.stderr


def test_app_writes_no_template_when_the_config_is_bad(run_with_bad_value: Run) -> None:
    assert list(run_with_bad_value.outdir.rglob("*.template.json")) == []


@pytest.fixture(scope="session")
def cli_run(started: dict[str, Started]) -> Run:
    """app.py on the fixture's context, as the CLI runs it."""
    return started["fixture"].wait()


def test_the_cli_path_writes_the_templates_the_tests_check(
    started: dict[str, Started], synthesized: Synthesized, cli_run: Run
) -> None:
    # cdk.json runs app.py optimized (`-O`: jsii skips its runtime type checks) and without the
    # checks only the test session runs; asserts in the code must carry no behaviour, and the
    # templates must be the ones the suite asserts on. CDK's analytics metadata names the
    # validation plugins, so it differs by design.
    assert cli_run.returncode == 0, cli_run.stderr

    cli = {s.path: s.template for s in read(cli_run.outdir).stacks}
    session = {s.path: s.template for s in synthesized.assembly.stacks}
    assert cli.keys() == session.keys()
    for path, template in cli.items():
        assert without_metadata(template) == without_metadata(session[path]), path


def test_the_cli_path_compiles_no_module_of_the_venv(cli_run: Run) -> None:
    # Where PYTHONDONTWRITEBYTECODE=1, a module without its cached file (`.opt-1.pyc` under
    # `-O`) is compiled again by every synth: aws-cdk-lib's generated sources cost seconds.
    # `make setup` writes them (tools/bytecode.py: a module missing here belongs on its list).
    assert cli_run.returncode == 0, cli_run.stderr

    uncached = json.loads(uncached_report(cli_run.outdir).read_text())

    assert uncached == [], "no bytecode: run `python -m tools.bytecode` (make setup does)"


def test_the_committed_cdk_json_synthesizes_and_passes_cdk_nag(started: dict[str, Started]) -> None:
    # The tests assert on the fixture's values; this is the one check of the operator's own
    # (cdk-nag runs in this synth; `make scan` runs cfn-lint, cfn-guard and checkov over the same
    # values).
    completed = started["cdk.json"].wait()

    assert completed.returncode == 0, completed.stderr
    assert list(completed.outdir.rglob("*.template.json"))


def test_development_packages_are_the_ones_the_cli_path_is_denied() -> None:
    # The guard above is only as good as this list: the test tools and the cfn-guard plugin are
    # on it, aws-cdk-lib and pydantic are not.
    blocked = development_only_modules()
    assert {"pytest", "cdklabs", "cfnlint", "moto"} <= set(blocked)
    assert not {"aws_cdk", "cdk_nag", "constructs", "jsii", "pydantic"} & set(blocked)


def without_metadata(template: dict[str, Any]) -> dict[str, Any]:
    resources = {k: v for k, v in template["Resources"].items() if k != "CDKMetadata"}
    return {**template, "Resources": resources}
