"""`make`'s guard for `ENV=`: a clear error before any CDK process starts.

`make synth ENV="dev prod"` used to synthesize dev alone and say nothing (the second word became
a stack pattern). Reads cdk.json only (no CDK import, milliseconds): the environments it names and
which one is production are the config's own rules (constructs_lib/config.py), not repeated here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from constructs_lib.config import PRODUCTION
from tools.context import CDK_JSON

# What each command takes: any number (none: all), exactly one, one that is not production.
ANY, ONE, ONE_NOT_PRODUCTION = "any", "one", "one-not-production"
COMMANDS = {"synth": ANY, "diff": ONE, "deploy": ONE, "destroy": ONE_NOT_PRODUCTION}


def configured(cdk_json: Path = CDK_JSON) -> list[str]:
    return list(json.loads(cdk_json.read_text())["context"]["environments"])


def problems(command: str, value: str, names: Sequence[str]) -> list[str]:
    """What is wrong with `ENV=value` for `make command`; empty when it may run."""
    choose = f"configured environments: {', '.join(names)}"
    rule = COMMANDS[command]
    if not value.strip():
        if rule == ANY:
            return []
        return [f"make {command} needs ENV=<environment>; {choose}"]
    if any(character.isspace() for character in value.strip()):
        return [
            f"ENV={value!r}: one word; separate environments with commas (ENV=dev,staging); "
            f"{choose}"
        ]
    wanted = value.strip().split(",")
    found = [
        f"ENV={value!r}: {name!r} is not configured; {choose}"
        for name in wanted
        if name not in names
    ]
    if found:
        return found
    if rule in (ONE, ONE_NOT_PRODUCTION) and len(wanted) > 1:
        return [f"ENV={value!r}: make {command} takes one environment at a time; {choose}"]
    if rule == ONE_NOT_PRODUCTION and wanted == [PRODUCTION]:
        return [
            f"ENV={PRODUCTION!r}: make destroy refuses production; tearing it down is deliberately "
            "several steps (README: Clean up)"
        ]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("env", nargs="?", default="", help="the value of ENV= (may be empty)")
    args = parser.parse_args(argv)
    found = problems(args.command, args.env, configured())
    for problem in found:
        print(problem, file=sys.stderr)
    return 2 if found else 0


if __name__ == "__main__":
    sys.exit(main())
