"""Compiled bytecode for what the app and the tests import, written once per venv (`make setup`).

Machines that set PYTHONDONTWRITEBYTECODE=1 (CI images, containers, these ones) never write
`.pyc` files, and uv does not compile on install: every `cdk synth` then compiles aws-cdk-lib's
generated sources again (about 4 s of an 11 s synth; `aws_ec2/__init__.py` alone is 7.7 MB).
cdk.json runs app.py with `-O`, which reads only `.opt-1.pyc`; pytest runs without it and reads
`.pyc`. So each level is written by importing, in a child process that may write bytecode, the
modules that run at that level: exactly what gets imported is compiled, nothing else (compiling
the whole venv takes 30 s per level on two cores; these imports take a few). Both children run
at once, one per core.

`python -m tools.bytecode` compiles; `python -m tools.bytecode --check` lists every imported venv
module whose cached file is missing (tests/test_app_entrypoint.py checks the CLI path compiles
nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE = ROOT / "node_modules" / ".bin" / "node"

# What `cdk synth` imports: app.py; the pipeline, which the factory imports only when it builds
# it; and what jsii imports on the way (the pipeline's CodePipeline types, cx_api at synth).
# tests/test_app_entrypoint.py runs the real synth and fails on any module this list misses.
APP_MODULES = ("app", "stacks.pipeline_stack", "aws_cdk.aws_codepipeline", "aws_cdk.cx_api")
# What the test session, the cfn-guard scan and the tools import besides (all without `-O`).
DEV_MODULES = (
    *APP_MODULES,
    "aws_cdk.assertions",
    "tools.cfn_guard",
    "tools.cloud_assembly",
    "jsonschema",
    "pytest",
    # The handler tests (moto's CloudFormation models import every service backend, about 4 s to
    # compile) and the emulator the integration tests and `make local` start.
    "moto.cloudformation.models",
    "cfnresponse",
    "tools.dev.emulator",
)

# Run in the child: import, then name every venv module imported whose cached file is missing.
CHECK = """
import importlib, importlib.util, json, sys
sys.path.insert(0, {root!r})
for name in {modules!r}:
    importlib.import_module(name)
level = "" if not sys.flags.optimize else sys.flags.optimize
venv = sys.prefix
print(json.dumps(sorted(
    module.__file__
    for module in list(sys.modules.values())
    if (getattr(module, "__file__", None) or "").startswith(venv)
    and module.__file__.endswith(".py")
    and not __import__("os").path.exists(
        importlib.util.cache_from_source(module.__file__, optimization=level)
    )
)))
"""


def app_flags() -> list[str]:
    """The interpreter flags of cdk.json's `app` command (`-O` today)."""
    command = json.loads((ROOT / "cdk.json").read_text())["app"].split()
    return [word for word in command[1:] if word.startswith("-")]


def _environment(*, write: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if NODE.exists():
        # Importing aws_cdk starts jsii's Node.js: the pinned one, not an end-of-life system one.
        env.setdefault("JSII_NODE", str(NODE))
    return env


def _child(flags: Sequence[str], modules: Sequence[str], *, write: bool) -> subprocess.Popen[str]:
    program = CHECK.format(root=str(ROOT), modules=tuple(modules))
    return subprocess.Popen(
        [sys.executable, *flags, "-c", program],
        cwd=ROOT,
        env=_environment(write=write),
        stdout=subprocess.PIPE,
        text=True,
    )


def _levels() -> list[tuple[list[str], tuple[str, ...]]]:
    """(interpreter flags, modules) per optimization level: the app's, then pytest's."""
    flags = app_flags()
    if not flags:
        return [([], DEV_MODULES)]
    return [(flags, APP_MODULES), ([], DEV_MODULES)]


def missing(*, write: bool = False) -> dict[str, list[str]]:
    """Per level's flags: every imported venv module still without its cached file."""
    children = [
        (" ".join(flags) or "(none)", _child(flags, modules, write=write))
        for flags, modules in _levels()
    ]
    found: dict[str, list[str]] = {}
    for label, child in children:
        out, _ = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"importing the app's modules with flags {label} failed")
        found[label] = json.loads(out)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only list what is missing")
    args = parser.parse_args(argv)
    # Writing: each child imports (compiling and writing what it imports), then lists what is
    # still missing, which is nothing unless a file could not be written.
    found = missing(write=not args.check)
    for label, files in found.items():
        print(f"==> bytecode for interpreter flags {label}: {len(files)} module(s) missing")
        for file in files:
            print(f"    {file}", file=sys.stderr)
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
