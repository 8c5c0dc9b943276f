"""`make local`: deploy the `local` environment into an embedded AWS emulator, report, tear down.

Starts moto's server on 127.0.0.1 (a free port, dummy credentials, no real AWS reachable), runs the
real CDK CLI against it (synth, bootstrap, deploy with `--method=direct`) and prints each stack's
status, the outputs and what the AWS API reports about the network, the fleet and the listener.
Then it destroys the stacks as `make destroy` does (`cdk destroy '**' --force`: compute, security,
network) and checks through the APIs that nothing the app created is left (`leftovers`).

The emulator stops at the end. With KEEP=1 nothing is destroyed: the emulator keeps running in the
foreground, and the commands that reach it (`aws ...`, `cdk diff`, `cdk deploy`, `make destroy`)
are printed; Ctrl-C stops it, after saying what is still in it.

Exit status: 0 when every stack deployed (and, without KEEP=1, was destroyed leaving nothing), 1
when a step failed, 130 when interrupted.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from tools.cloud_assembly import CloudAssembly, read
from tools.dev.emulator import (
    ACCOUNT,
    ALL_STACKS,
    BOOTSTRAP_STACK,
    DEPLOY_FLAGS,
    DESTROY_FLAGS,
    DUMMY_CREDENTIAL,
    ENVIRONMENT,
    NOT_AWS_RESOURCES,
    REGION,
    REPO,
    CdkError,
    Emulator,
    bootstrap,
    deploy,
    destroy,
    explain_deploy_failure,
    leftovers,
    skipped_resources,
    stack_resources,
    stack_statuses,
    start_synth,
)

TIER_TAG = "aws-cdk:subnet-type"
TIERS = ("Public", "Private", "Isolated")
# Outputs that only carry cross-stack references; the report shows the ones people read.
EXPORT_OUTPUT_PREFIX = "ExportsOutput"


class StepFailedError(Exception):
    """A step that failed, with a message that says what to look at."""


class Progress:
    """One line per step, with the time it took."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.started = time.monotonic()
        self._step_started = self.started

    def step(self, number: int, text: str) -> None:
        self._step_started = time.monotonic()
        print(f"==> [{number}/{self.steps}] {text}", flush=True)

    def done(self, text: str = "done") -> None:
        print(f"    {text} ({time.monotonic() - self._step_started:.1f} s)", flush=True)

    def detail(self, text: str) -> None:
        print(f"    {text}", flush=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def main() -> int:
    keep = os.environ.get("KEEP", "") not in ("", "0")
    progress = Progress(steps=5 if keep else 6)
    # `kill PID` stops the emulator as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    emulator = Emulator()
    with tempfile.TemporaryDirectory(prefix="local-emulator-") as workdir:
        try:
            assembly = _deploy(emulator, Path(workdir), progress)
            progress.step(5, "Reading back through the AWS API")
            print(report(emulator, assembly), flush=True)
            # Classification only: the changed variant is never deployed.
            _change_safety(emulator, Path(workdir))
            if keep:
                print(f"\nDeployed and read back in {progress.elapsed:.1f} s (wall time).")
                _serve_until_interrupted(emulator)
                print(leftovers_report(leftovers(emulator)), flush=True)
            else:
                _teardown(emulator, assembly, progress)
                print(
                    f"\nDeployed, read back and torn down in {progress.elapsed:.1f} s (wall time).",
                    flush=True,
                )
        except StepFailedError as failure:
            print(f"\nFAILED: {failure}", file=sys.stderr, flush=True)
            print(f"Stopped after {progress.elapsed:.1f} s (wall time).", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"\nInterrupted after {progress.elapsed:.1f} s.", file=sys.stderr)
            return 130
        finally:
            emulator.stop()
    if keep:
        print("Emulator stopped.")
    return 0


def _change_safety(emulator: Emulator, workdir: Path) -> None:
    """Issue 22, item 6: a new vpcCidr, classified against the deployed templates, not deployed."""
    from tools.dev.local_change_safety import section, walk_through

    started = time.monotonic()
    print("\n==> Change safety: a new vpcCidr against what the emulator runs", flush=True)
    try:
        walkthrough = walk_through(emulator, workdir)
    except CdkError as error:
        raise StepFailedError(f"cdk synth of the vpcCidr variant:\n{error.tail()}") from error
    print(section(walkthrough), flush=True)
    elapsed = time.monotonic() - started
    print(f"    ({elapsed:.1f} s: one synth of {ENVIRONMENT}, two classifications)", flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _deploy(emulator: Emulator, workdir: Path, progress: Progress) -> CloudAssembly:
    progress.step(1, "Starting the AWS emulator (moto server)")
    emulator.start()
    progress.done(f"listening on 127.0.0.1:{emulator.port}, account {ACCOUNT}, {REGION}")

    progress.step(2, f"Synthesizing the {ENVIRONMENT} environment (cdk synth -c env={ENVIRONMENT})")
    outdir = workdir / "cdk.out"
    try:
        start_synth(REPO, outdir).result()
    except CdkError as error:
        raise StepFailedError(f"cdk synth failed:\n{error.tail()}") from error
    assembly = read(outdir)
    progress.done(f"{len(assembly.stacks)} stacks: {', '.join(assembly.stack_names)}")

    progress.step(3, f"Bootstrapping aws://{ACCOUNT}/{REGION} (cdk bootstrap)")
    (workdir / "bootstrap").mkdir()
    try:
        bootstrap(emulator, workdir / "bootstrap")
    except CdkError as error:
        raise StepFailedError(f"cdk bootstrap failed:\n{error.tail()}") from error
    progress.done()

    progress.step(4, "Deploying in dependency order (cdk deploy --method=direct)")
    try:
        deploy(emulator, assembly, on_line=_stack_progress(progress, assembly))
    except CdkError as error:
        raise StepFailedError(
            "cdk deploy failed\n"
            + _indent(explain_deploy_failure(emulator, assembly, error))
            + "\n  last lines of the CLI's output:\n"
            + _indent(error.tail(), 4)
        ) from error
    progress.done()
    return assembly


def _teardown(emulator: Emulator, assembly: CloudAssembly, progress: Progress) -> None:
    progress.step(
        6,
        f"Tearing down as `make destroy ENV={ENVIRONMENT}` does (cdk destroy '{ALL_STACKS}' "
        f"{' '.join(DESTROY_FLAGS)}), then checking that nothing is left",
    )
    try:
        destroy(emulator, assembly, on_line=_stack_progress(progress, assembly))
    except CdkError as error:
        statuses = stack_statuses(emulator, assembly)
        raise StepFailedError(
            "cdk destroy failed\n"
            + _indent("stacks: " + ", ".join(f"{n} {s}" for n, (s, _) in statuses.items()))
            + "\n  last lines of the CLI's output:\n"
            + _indent(error.tail(), 4)
        ) from error
    left = leftovers(emulator)
    print(leftovers_report(left), flush=True)
    if any(left.values()):
        raise StepFailedError("the teardown left resources behind (listed above)")
    progress.done()


def leftovers_report(left: dict[str, list[str]]) -> str:
    """What the emulator still holds, kind by kind, or that none of the checked kinds is left."""
    remaining = {kind: ids for kind, ids in left.items() if ids}
    if not remaining:
        return (
            f"Left in the emulator: nothing (no stack but {BOOTSTRAP_STACK}, and none of: "
            + ", ".join(kind for kind in left if kind != "stacks")
            + "; read back through the APIs)"
        )
    lines = [f"Left in the emulator besides {BOOTSTRAP_STACK} and moto's defaults"]
    lines += [f"  {kind}: {', '.join(ids)}" for kind, ids in remaining.items()]
    return "\n".join(lines)


def _stack_progress(progress: Progress, assembly: CloudAssembly) -> Callable[[str], None]:
    """Turns the CLI's per-stack lines into one progress line per stack event that matters."""
    names = assembly.stack_names
    lock = threading.Lock()

    def on_line(line: str) -> None:
        name = next((n for n in names if f"({n})" in line or f" {n} " in f" {line} "), None)
        if name is None:
            return
        with lock:
            if ": deploying..." in line:
                progress.detail(f"{name}: deploying")
            elif ": destroying..." in line:
                progress.detail(f"{name}: destroying")
            elif "✅" in line and "destroyed" in line:
                progress.detail(f"{name}: destroyed")
            elif "✅" in line:
                progress.detail(f"{name}: {'unchanged' if 'no changes' in line else 'deployed'}")
            elif "❌" in line:
                progress.detail(f"{name}: FAILED")

    return on_line


def report(emulator: Emulator, assembly: CloudAssembly) -> str:
    """Stacks, outputs and facts read back through the API, and what the emulator skipped."""
    sections = [
        _stacks_section(emulator, assembly),
        _outputs_section(emulator, assembly),
        _network_section(emulator, assembly),
        _fleet_section(emulator, assembly),
        _skipped_section(emulator, assembly),
    ]
    return "\n\n".join(sections)


def _stacks_section(emulator: Emulator, assembly: CloudAssembly) -> str:
    statuses = stack_statuses(emulator, assembly)
    width = max(len(name) for name in assembly.stack_names)
    lines = ["Stacks (deployed resources / resources in the template)"]
    for stack in assembly.stacks:
        status = statuses.get(stack.stack_name, ("NOT CREATED", ""))[0]
        deployed = len(stack_resources(emulator, stack.stack_name))
        in_template = [t for t in stack.resource_types.values() if t not in NOT_AWS_RESOURCES]
        lines.append(
            f"  {stack.stack_name:<{width}}  {status:<16} {deployed:>3} / {len(in_template)}"
        )
    return "\n".join(lines)


def _outputs_section(emulator: Emulator, assembly: CloudAssembly) -> str:
    cloudformation = emulator.client("cloudformation")
    lines = ["Outputs"]
    for name in assembly.stack_names:
        outputs = cloudformation.describe_stacks(StackName=name)["Stacks"][0].get("Outputs", [])
        for output in sorted(outputs, key=lambda o: str(o["OutputKey"])):
            if not str(output["OutputKey"]).startswith(EXPORT_OUTPUT_PREFIX):
                lines.append(f"  {name}.{output['OutputKey']} = {output['OutputValue']}")
    lines.append(
        "  (the load balancer's DNS name is the emulator's invention: nothing answers there, "
        "and no instance boots)"
    )
    return "\n".join(lines)


def _resources_of_type(
    emulator: Emulator, assembly: CloudAssembly, resource_type: str
) -> list[str]:
    return [
        resource.physical_id
        for name in assembly.stack_names
        for resource in stack_resources(emulator, name).values()
        if resource.resource_type == resource_type
    ]


def _network_section(emulator: Emulator, assembly: CloudAssembly) -> str:
    ec2 = emulator.client("ec2")
    lines = ["Network (read back through the EC2 API)"]
    for vpc_id in _resources_of_type(emulator, assembly, "AWS::EC2::VPC"):
        vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        lines.append(f"  VPC {vpc_id} {vpc['CidrBlock']}")
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        nat_gateways = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "NatGateways"
        ]
        zone_of = {subnet["SubnetId"]: subnet["AvailabilityZone"] for subnet in subnets}
        nat_zones: dict[str, int] = defaultdict(int)
        for nat in nat_gateways:
            nat_zones[zone_of.get(nat["SubnetId"], "?")] += 1
        by_zone: dict[str, list[str]] = defaultdict(list)
        for subnet in sorted(subnets, key=_tier_order):
            tier = _tags(subnet).get(TIER_TAG, "untagged").lower()
            by_zone[subnet["AvailabilityZone"]].append(f"{tier} {subnet['CidrBlock']}")
        for zone in sorted(by_zone):
            nats = nat_zones.get(zone, 0)
            lines.append(
                f"    {zone}: {', '.join(by_zone[zone])}; {nats} NAT gateway{'s' * (nats != 1)}"
            )
    return "\n".join(lines)


def _tier_order(subnet: dict[str, Any]) -> tuple[int, str]:
    tier = _tags(subnet).get(TIER_TAG, "")
    return (TIERS.index(tier) if tier in TIERS else len(TIERS), str(subnet["CidrBlock"]))


def _fleet_section(emulator: Emulator, assembly: CloudAssembly) -> str:
    autoscaling = emulator.client("autoscaling")
    elbv2 = emulator.client("elbv2")
    ec2 = emulator.client("ec2")
    lines = ["Fleet and load balancer (read back through the Auto Scaling and ELB APIs)"]
    group_names = _resources_of_type(emulator, assembly, "AWS::AutoScaling::AutoScalingGroup")
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=group_names)
    for group in groups["AutoScalingGroups"]:
        subnet_ids = [s for s in group["VPCZoneIdentifier"].split(",") if s]
        subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"] if subnet_ids else []
        placement = sorted(
            f"{_tags(s).get(TIER_TAG, 'untagged').lower()} {s['AvailabilityZone']}" for s in subnets
        )
        target_groups = [arn.split("/")[1] for arn in group.get("TargetGroupARNs", [])]
        lines += [
            f"  Auto Scaling group {group['AutoScalingGroupName']}",
            f"    capacity: min {group['MinSize']}, desired {group['DesiredCapacity']}, "
            f"max {group['MaxSize']}; {len(group.get('Instances', []))} instance records",
            f"    health check: {group['HealthCheckType']}, grace "
            f"{group.get('HealthCheckGracePeriod', 0)} s; target groups: "
            f"{', '.join(target_groups) or 'none'}",
            f"    subnets: {', '.join(placement)}",
        ]
    for arn in _resources_of_type(emulator, assembly, "AWS::ElasticLoadBalancingV2::LoadBalancer"):
        balancer = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
        lines.append(
            f"  Load balancer {balancer['LoadBalancerName']} ({balancer['Scheme']}), "
            f"{balancer['DNSName']}"
        )
        for listener in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]:
            actions = "; ".join(_describe_action(a) for a in listener["DefaultActions"])
            lines.append(f"    listener {listener['Protocol']}:{listener['Port']} -> {actions}")
    return "\n".join(lines)


def _describe_action(action: dict[str, Any]) -> str:
    if action["Type"] == "forward" and "TargetGroupArn" in action:
        return f"forward to target group {str(action['TargetGroupArn']).split('/')[1]}"
    if action["Type"] == "redirect":
        redirect = action.get("RedirectConfig", {})
        return f"redirect to {redirect.get('Protocol', '?')}:{redirect.get('Port', '?')}"
    return str(action["Type"])


def _skipped_section(emulator: Emulator, assembly: CloudAssembly) -> str:
    counts: dict[str, int] = defaultdict(int)
    for stack in assembly.stacks:
        for resource_type in skipped_resources(emulator, stack).values():
            counts[resource_type] += 1
    lines = [
        "Not deployed by the emulator (in the templates, absent from DescribeStackResources; "
        "moto has no CloudFormation support for these types)"
    ]
    lines += [f"  {resource_type} x{counts[resource_type]}" for resource_type in sorted(counts)]
    if not counts:
        lines.append("  none")
    lines += [
        "  Deployed but not modelled:",
        "    security-group egress rules (moto shows its default allow-all egress instead)",
        "    the load balancer's and target group's attributes from the template (access logs,"
        " zonal shift, cross-zone: not applied)",
        "    instances (records only: nothing boots, no cfn-signal is awaited)",
    ]
    return "\n".join(lines)


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {str(tag["Key"]): str(tag["Value"]) for tag in resource.get("Tags", [])}


def _indent(text: str, spaces: int = 2) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


def _serve_until_interrupted(emulator: Emulator) -> None:
    exports = {
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "PATH": "$PWD/node_modules/.bin:$PATH",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    assignments = " \\\n    ".join(
        f"{name}={value if name == 'PATH' else shlex.quote(value)}"
        for name, value in exports.items()
    )
    flags = " ".join(DEPLOY_FLAGS)
    print(
        f"""
KEEP=1: the emulator keeps running at {emulator.endpoint} (listening on 127.0.0.1 only).
In another shell, from {REPO}:

  unset AWS_PROFILE AWS_SESSION_TOKEN
  export {assignments}
  aws ec2 describe-subnets --query 'Subnets[].[AvailabilityZone,CidrBlock]' --output text
  aws cloudformation describe-stacks --query 'Stacks[].[StackName,StackStatus]' --output text
  cdk diff -c env={ENVIRONMENT} '{ALL_STACKS}' --method=template --no-notices
  cdk deploy -c env={ENVIRONMENT} '{ALL_STACKS}' {flags} --no-notices
  make destroy ENV={ENVIRONMENT} FORCE=1

Always --method=direct against the emulator (change sets lose outputs and exports there).
`make destroy` deletes compute, security, network (the bootstrap stack stays); stopping the
emulator says what is left in it. Stop it with Ctrl-C here, or: kill {os.getpid()}""",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print()


if __name__ == "__main__":
    sys.exit(main())
