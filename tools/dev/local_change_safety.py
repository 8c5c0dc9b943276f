"""Issue 22's change-safety check, end to end without AWS: `make local`'s last section.

After `make local` has deployed the `local` environment into the emulator, a copy of cdk.json with
a new `network.vpcCidr` for `local` is synthesized (that environment only, never deployed) and
by tools/change_safety against the templates the emulator's CloudFormation holds (`GetTemplate`
through its endpoint, as `make diff` reads an account's): the VPC and its subnets would be
replaced, so the check blocks. Then an acknowledgments file naming exactly those changes lets the
same change pass. The integration tests (tests/integration/test_change_safety_emulator.py) make the
same check against their own deployment.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.bytecode import app_flags
from tools.change_safety.__main__ import changes_from_deployed, environment_stacks, verdict_on
from tools.change_safety.acknowledgments import Verdict, render
from tools.change_safety.classify import Finding
from tools.cloud_assembly import read
from tools.context import cdk_json_context
from tools.dev.emulator import ENVIRONMENT, REPO, Emulator, cdk_json_with, start_synth

ACKNOWLEDGMENT_REASON = (
    "make local: the emulator's environment is thrown away after the run, so losing its VPC, "
    "subnets and target group costs nothing"
)


def new_vpc_cidr(context: dict[str, Any], environment: str = ENVIRONMENT) -> str:
    """The first range of the same size after `environment`'s vpcCidr that no environment uses
    (config validation refuses overlapping ranges): 10.99.0.0/16 -> 10.100.0.0/16."""
    environments = context["environments"]
    taken = [
        ipaddress.ip_network(settings["network"]["vpcCidr"]) for settings in environments.values()
    ]
    candidate = ipaddress.ip_network(environments[environment]["network"]["vpcCidr"])
    while any(candidate.overlaps(network) for network in taken):
        following = int(candidate.network_address) + candidate.num_addresses
        candidate = ipaddress.ip_network((following, candidate.prefixlen))
    return str(candidate)


def with_new_vpc_cidr(context: dict[str, Any], environment: str = ENVIRONMENT) -> dict[str, Any]:
    """`context` (changed in place and returned) with `new_vpc_cidr` as `environment`'s range."""
    context["environments"][environment]["network"]["vpcCidr"] = new_vpc_cidr(context, environment)
    return context


def acknowledgments_for(findings: tuple[Finding, ...], reason: str) -> dict[str, Any]:
    """An acknowledgments document naming exactly `findings`, each with `reason`."""
    return {
        "acknowledgments": [
            {"stack": f.stack, "logicalId": f.logical_id, "change": f.kind.value, "reason": reason}
            for f in findings
        ]
    }


@dataclass(frozen=True)
class Walkthrough:
    old_cidr: str
    new_cidr: str
    blocked: Verdict
    acknowledged: Verdict


def walk_through(emulator: Emulator, workdir: Path) -> Walkthrough:
    """Synthesize the variant into `workdir`, classify it without, then with acknowledgments.

    Raises `CdkError` when the variant's synth fails.
    """
    context = cdk_json_context()
    old_cidr = context["environments"][ENVIRONMENT]["network"]["vpcCidr"]
    with_new_vpc_cidr(context)
    app_dir = workdir / "vpc-cidr-variant"
    app_dir.mkdir()
    # As cdk.json runs it, from a folder of its own with the changed context.
    cdk_json = cdk_json_with(context, [*app_flags(), str(REPO / "app.py")])
    (app_dir / "cdk.json").write_text(json.dumps(cdk_json, indent=2))
    start_synth(app_dir, app_dir / "cdk.out").result()
    stacks = environment_stacks(read(app_dir / "cdk.out"), ENVIRONMENT)
    changes = changes_from_deployed(stacks, emulator.session(), endpoint_url=emulator.endpoint)
    # A file that does not exist holds no acknowledgment.
    blocked = verdict_on(
        changes, environment=ENVIRONMENT, acknowledgments=workdir / "no-acknowledgments.json"
    )
    acknowledgments = workdir / "change-acknowledgments.json"
    document = acknowledgments_for(blocked.refused, ACKNOWLEDGMENT_REASON)
    acknowledgments.write_text(json.dumps(document, indent=2))
    acknowledged = verdict_on(changes, environment=ENVIRONMENT, acknowledgments=acknowledgments)
    return Walkthrough(
        old_cidr=old_cidr,
        new_cidr=context["environments"][ENVIRONMENT]["network"]["vpcCidr"],
        blocked=blocked,
        acknowledged=acknowledged,
    )


def section(walkthrough: Walkthrough) -> str:
    """The blocked rows of the table, a count of the rest, then the acknowledged run's verdict."""
    blocked, acknowledged = walkthrough.blocked, walkthrough.acknowledged
    rows = sorted((f"{f.stack}/{f.logical_id}", f.kind.value, f.why) for f in blocked.refused)
    width = max((len(resource) for resource, _, _ in rows), default=0)
    reported = Counter(f.kind.value for f in blocked.classification.findings if not f.blocked)
    lines = [
        "Change safety against the emulator's deployed templates (GetTemplate, as make diff)",
        f"  vpcCidr {walkthrough.old_cidr} -> {walkthrough.new_cidr} for {ENVIRONMENT} in a copy "
        "of cdk.json, synthesized, not deployed:",
        f"  {'resource':<{width}}  {'change':<20}  risk     why",
        *(f"  {resource:<{width}}  {change:<20}  BLOCKED  {why}" for resource, change, why in rows),
        "  reported, not blocked: "
        + (", ".join(f"{count} {kind}" for kind, count in sorted(reported.items())) or "nothing"),
        f"  exit status {blocked.exit_code}: "
        + (f"{len(rows)} blocked change(s)" if blocked.exit_code else "NOT BLOCKED"),
        f"  with an acknowledgments file naming exactly these {len(rows)} change(s): "
        f"exit status {acknowledged.exit_code}",
    ]
    if acknowledged.exit_code == 0 and blocked.exit_code != 0:
        lines.append("  acknowledged: passes")
    else:
        lines.append("  acknowledged: STILL BLOCKED")
        lines += [f"  {line}" for line in render(acknowledged).splitlines()]
    return "\n".join(lines)
