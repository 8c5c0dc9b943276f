"""Each environment's release plan: batches, capacity floor and worst case.

`make release-plan` prints it; `make release-plan README=1` writes the example environments' plan
into docs/design.md ("Releases") between the markers below, and a test fails while that document
states other numbers than this computes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from constructs_lib.config import AppConfig
from constructs_lib.fleet import release_plan
from tools.context import cdk_json_context, fixture_context
from tools.generated_block import GeneratedBlock

# The design document's "Releases" section holds the example environments' plan.
DOCUMENTED = GeneratedBlock(
    Path(__file__).resolve().parents[1] / "docs" / "design.md",
    "<!-- release-plan: begin -->",
    "<!-- release-plan: end -->",
)


def plan_table(config: AppConfig, names: Sequence[str] = ()) -> str:
    """A Markdown table with one row per configured environment (or per one of `names`)."""
    rows = [
        "| environment | min..max | healthy % | batch at min / max | capacity floor | "
        "checkpoints | bake | worst case (at desired) | failed + rolled back |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for environment in config.environments:
        if names and environment.name not in names:
            continue
        plan = release_plan(environment.fleet)
        low, high = plan.min_capacity, plan.max_capacity
        checkpoints = (
            f"{', '.join(map(str, plan.checkpoints))} % + {plan.checkpoint_delay_minutes} min"
            if plan.checkpoints
            else "none"
        )
        floor = (
            "= desired"
            if plan.min_healthy_percentage == 100
            else f"{plan.capacity_floor(low)}..{plan.capacity_floor(high)}"
        )
        rows.append(
            f"| {environment.name} | {low}..{high} "
            f"| {plan.min_healthy_percentage}..{plan.max_healthy_percentage} "
            f"| {plan.batch_size(low)} / {plan.batch_size(high)} "
            f"| {floor} "
            f"| {checkpoints} | {plan.bake_minutes} min "
            f"| {plan.worst_case_minutes} min ({plan.worst_case_desired}) "
            f"| {plan.worst_case_failed_minutes} min |"
        )
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", action="store_true", help="write the table into docs/design.md")
    parser.add_argument("--env", default="", help="environments, comma-separated (default: all)")
    args = parser.parse_args(argv)
    if args.readme:
        # The docs describe the example environments (tests/fixture_context.json), as the README's
        # cost table and picture do: a team's own cdk.json never makes them stale.
        table = plan_table(AppConfig.from_context(fixture_context()))
        DOCUMENTED.write(table)
        print(f"==> {DOCUMENTED.path.name}: release plan of the example environments")
    else:
        names = [name for name in args.env.split(",") if name]
        table = plan_table(AppConfig.from_context(cdk_json_context()), names)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
