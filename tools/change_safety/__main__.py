"""`python -m tools.change_safety <command>`: what `make check-change`, `make diff` and `make
stack-policy` run.

- `check-change --env prod --base main`: synthesizes the app at `--base` (its files exported by
  `git archive` into a temporary folder, run with this checkout's .venv and node_modules through
  its own cdk.json) and the working tree, in parallel, offline; classifies every stack of the
  environment; exits 1 on a blocked change that is not acknowledged, or a stale acknowledgment.
- `deployed --env prod`: the same against the templates CloudFormation holds (`GetTemplate`),
  for the assembly in cdk.out; without AWS credentials it says so and exits 0, because `cdk diff`
  before it has already said the same.
- `change-sets --env prod [--assume-bootstrap-roles]`: the same, with a change set per existing
  stack (created, described, deleted; change_sets.py) deciding replacement: the pipeline's step.
- `stack-policy --env prod`: one stack-policy file per stack of the assembly in cdk.out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from constructs_lib.config import PRODUCTION
from tools.change_safety.acknowledgments import (
    DEFAULT_FILE,
    AcknowledgmentError,
    Verdict,
    judge,
    load,
    render,
)
from tools.change_safety.classify import Json, StackChange, classify
from tools.change_safety.stack_policy import stack_policy, stateful_logical_ids
from tools.cloud_assembly import CloudAssembly, Stack, read, tagged_environment
from tools.context import ROOT, cdk_json_context

REPO = ROOT
# The pinned CLI and Node 22 first, and no network: the Makefile's own settings, for a caller
# that starts this module without make.
SYNTH_ENV = {
    "PATH": f"{REPO / 'node_modules' / '.bin'}:{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "1",
}


def environment_stacks(assembly: CloudAssembly, environment: str) -> dict[str, Stack]:
    """The stacks of one environment's stage (the pipeline stands outside every stage)."""
    return {
        s.stack_name: s
        for s in assembly.stacks
        if "/" in s.path and tagged_environment(s) == environment
    }


def changes_between(
    base: Mapping[str, Json | None], head: Mapping[str, Stack]
) -> list[StackChange]:
    return [
        StackChange(stack=name, old=base.get(name), new=stack.template, region=stack.region)
        for name, stack in head.items()
    ]


def verdict_on(
    changes: Sequence[StackChange], *, environment: str, acknowledgments: Path
) -> Verdict:
    """Classify, then apply the acknowledgments file; raises `AcknowledgmentError` on a bad one."""
    classification = classify(changes, production=environment == PRODUCTION)
    return judge(classification, load(acknowledgments))


def report(changes: Sequence[StackChange], *, environment: str, acknowledgments: Path) -> int:
    try:
        verdict = verdict_on(changes, environment=environment, acknowledgments=acknowledgments)
    except AcknowledgmentError as error:
        print(f"Invalid acknowledgments:\n{error}", file=sys.stderr)
        return 2
    print(render(verdict))
    return verdict.exit_code


def compare(base: Path, head: Path, *, environment: str, acknowledgments: Path) -> int:
    old = {n: s.template for n, s in environment_stacks(read(base), environment).items()}
    new = environment_stacks(read(head), environment)
    if not new:
        print(f"no stack of environment {environment!r} in {head}", file=sys.stderr)
        return 2
    return report(
        changes_between(old, new),
        environment=environment,
        acknowledgments=acknowledgments,
    )


def _synth(checkout: Path, environment: str, outdir: Path) -> subprocess.Popen[bytes]:
    command = ["cdk", "--no-notices", "synth", "--quiet", "-c", f"env={environment}"]
    return subprocess.Popen(
        [*command, "--output", str(outdir), "**"],
        cwd=checkout,
        env={**os.environ, **SYNTH_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def export_commit(reference: str, destination: Path) -> str:
    """The committed files of `reference`, nothing ignored or uncommitted; git's state untouched."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{reference}^{{commit}}"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    destination.mkdir(parents=True)
    archive = subprocess.Popen(["git", "archive", commit], cwd=REPO, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(destination)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {commit} failed")
    # cdk.json runs `.venv/bin/python`: the base uses this checkout's pinned set-up.
    for linked in (".venv", "node_modules"):
        (destination / linked).symlink_to(REPO / linked)
    return commit


def check_change(reference: str, *, environment: str, acknowledgments: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="check-change-") as scratch:
        root = Path(scratch)
        commit = export_commit(reference, root / "base")
        synths = {
            f"{reference} ({commit[:12]})": (
                _synth(root / "base", environment, root / "base.out"),
                root / "base.out",
            ),
            "working tree": (_synth(REPO, environment, root / "head.out"), root / "head.out"),
        }
        failed = False
        for label, (process, _) in synths.items():
            _, errors = process.communicate()
            if process.returncode != 0:
                print(f"synth of {label} failed:\n{errors.decode()}", file=sys.stderr)
                failed = True
        if failed:
            return 2
        print(f"==> {environment}: {reference} ({commit[:12]}) -> working tree")
        (_, base_out), (_, head_out) = synths.values()
        return compare(base_out, head_out, environment=environment, acknowledgments=acknowledgments)


def changes_from_deployed(
    stacks: dict[str, Stack], session: Any, *, endpoint_url: str | None = None
) -> list[StackChange]:
    """Each stack's change from the template CloudFormation holds (`GetTemplate`) to `stacks`'.

    `endpoint_url`: a CloudFormation other than AWS's own (`make local`'s emulator).
    """
    from tools.change_safety.change_sets import deployed_template

    base = {
        name: deployed_template(
            session.client("cloudformation", region_name=stack.region, endpoint_url=endpoint_url),
            name,
        )
        for name, stack in stacks.items()
    }
    return changes_between(base, stacks)


def deployed(
    assembly_dir: Path,
    *,
    environment: str,
    acknowledgments: Path,
    change_sets: bool = False,
    assume_bootstrap_roles: bool = False,
    session: Any = None,
    endpoint_url: str | None = None,
) -> int:
    """Classify against what CloudFormation holds, with the shell's credentials (or the bootstrap
    roles they may assume); with `change_sets`, CloudFormation's own change sets decide replacement.
    `session` and `endpoint_url` (templates only) point it elsewhere: `make local`'s emulator.
    """
    # Development dependencies, slow to import: only this path needs them.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from tools.change_safety.change_sets import stack_changes

    stacks = environment_stacks(read(assembly_dir), environment)
    if session is None:
        session = boto3.Session()
    if session.get_credentials() is None:
        print(
            "Change safety: no AWS credentials, so the deployed templates cannot be read. "
            f"Offline: make check-change ENV={environment} BASE=<the commit deployed last>."
        )
        # After `cdk diff`, which already failed the same way, this adds nothing; as the
        # pipeline's gate, a check that could not run must not pass.
        return 2 if change_sets else 0
    try:
        if change_sets:
            found = stack_changes(
                list(stacks.values()), session, assume_bootstrap_roles=assume_bootstrap_roles
            )
        else:
            found = changes_from_deployed(stacks, session, endpoint_url=endpoint_url)
    except (BotoCoreError, ClientError) as error:
        print(f"Change safety: cannot read the deployed stacks: {error}", file=sys.stderr)
        return 2
    return report(found, environment=environment, acknowledgments=acknowledgments)


def write_stack_policies(assembly_dir: Path, *, environment: str, outdir: Path) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    for name, stack in environment_stacks(read(assembly_dir), environment).items():
        path = outdir / f"{name}.json"
        path.write_text(json.dumps(stack_policy(stack.template), indent=2) + "\n")
        protected = len(stateful_logical_ids(stack.template))
        print(f"{path}: denies Update:Replace and Update:Delete on {protected} resource(s)")
    return 0


def has_credentials(environment: str) -> int:
    """0 when the shell has AWS credentials; else one line saying what `make diff` needs.

    Without this, the CDK CLI prints "no credentials have been configured" once per stack and
    the change-safety step a third time, none of them saying what to do offline.
    """
    import boto3

    if boto3.Session().get_credentials() is not None:
        return 0
    account = cdk_json_context()["environments"][environment]["account"]
    print(
        f"make diff ENV={environment} reads the deployed templates of account {account} and "
        "needs AWS credentials for it. Offline, the same table between two commits: "
        f"make check-change ENV={environment} BASE=<the commit deployed last>",
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.change_safety")
    commands = parser.add_subparsers(dest="command", required=True)
    # Each command takes the options it reads, nothing else.
    for name in ("check-change", "deployed", "change-sets", "stack-policy", "credentials"):
        command = commands.add_parser(name)
        command.add_argument("--env", required=True)
        if name in ("check-change", "deployed", "change-sets"):
            command.add_argument("--acknowledgments", type=Path, default=DEFAULT_FILE)
        if name in ("deployed", "change-sets", "stack-policy"):
            command.add_argument("--assembly", type=Path, default=REPO / "cdk.out")
        if name == "check-change":
            command.add_argument("--base", required=True)
        if name == "change-sets":
            command.add_argument("--assume-bootstrap-roles", action="store_true")
        if name == "stack-policy":
            command.add_argument("--out", type=Path, default=REPO / "cdk.out" / "stack-policies")
    args = parser.parse_args(argv)
    if args.command == "credentials":
        return has_credentials(args.env)
    if args.command == "check-change":
        return check_change(args.base, environment=args.env, acknowledgments=args.acknowledgments)
    if args.command in ("deployed", "change-sets"):
        return deployed(
            args.assembly,
            environment=args.env,
            acknowledgments=args.acknowledgments,
            change_sets=args.command == "change-sets",
            assume_bootstrap_roles=getattr(args, "assume_bootstrap_roles", False),
        )
    return write_stack_policies(args.assembly, environment=args.env, outdir=args.out)


if __name__ == "__main__":
    sys.exit(main())
