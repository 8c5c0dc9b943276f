"""Prove a change leaves every template byte-identical: synthesize before and after, compare.

    python -m tools.dev.same_templates synth /tmp/before   # `make synth`'s CLI call, to a folder
    ... change the code ...
    python -m tools.dev.same_templates synth /tmp/after
    python -m tools.dev.same_templates compare /tmp/before /tmp/after

`compare` checks every `*.template.json` under either folder (nested stage assemblies included)
byte for byte and exits 1 naming each file that is missing on one side or differs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"


def templates(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*.template.json"))
    }


def compare(before: Path, after: Path) -> list[str]:
    """One line per template that is missing on one side or differs; none when identical."""
    old, new = templates(before), templates(after)
    problems = [f"only in {before}: {name}" for name in sorted(old.keys() - new.keys())]
    problems += [f"only in {after}: {name}" for name in sorted(new.keys() - old.keys())]
    problems += [
        f"differs: {name}" for name in sorted(old.keys() & new.keys()) if old[name] != new[name]
    ]
    return problems


def synth(outdir: Path) -> int:
    """`cdk synth '**'` as `make synth` runs it (the pinned CLI and Node, no network)."""
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true", "CDK_DISABLE_VERSION_CHECK": "1"}
    env["PATH"] = os.pathsep.join([str(NODE_BIN), str(Path(sys.executable).parent), env["PATH"]])
    command = [str(NODE_BIN / "cdk"), "synth", "--no-notices", "--quiet", "-o", str(outdir), "**"]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("synth", help="synthesize the app into a folder").add_argument(
        "outdir", type=Path
    )
    both = sub.add_parser("compare", help="compare the templates of two folders byte for byte")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    args = parser.parse_args(argv)

    if args.command == "synth":
        return synth(args.outdir)
    problems = compare(args.before, args.after)
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(templates(args.before))
    if problems or not count:
        print(f"==> templates differ ({len(problems)} problem(s), {count} before)", file=sys.stderr)
        return 1
    print(f"==> {count} templates byte-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
