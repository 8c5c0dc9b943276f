"""`make cost ENV=x`: the monthly list price of what an environment's templates would create.

Counted from the synthesized templates, not from config: a NAT gateway, endpoint or alarm that the
code adds is priced the day it appears. Prices are us-east-1 on-demand list prices, dated below;
other regions differ by a few percent to about a third. Usage (traffic through NAT and endpoints,
log ingestion, requests) depends on the workload: it is shown as rates, not guessed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.cloud_assembly import CloudAssembly, Json, Stack, read, tagged_environment
from tools.context import example_assembly
from tools.generated_block import GeneratedBlock

PRICES_AS_OF = "2026-11"
HOURS_PER_MONTH = 730
# EC2 on-demand, Linux, USD per hour. A type missing here is an error that names this table.
INSTANCE_HOURLY = {
    "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832,
    "t4g.micro": 0.0084, "t4g.small": 0.0168, "t4g.medium": 0.0336, "t4g.large": 0.0672,
    "m7i.large": 0.1008, "m7i.xlarge": 0.2016, "m7i.2xlarge": 0.4032,
    "m7g.large": 0.0816, "m7g.xlarge": 0.1632, "m7g.2xlarge": 0.3264,
    "c7i.large": 0.0893, "c7i.xlarge": 0.1785, "c7g.large": 0.0725, "c7g.xlarge": 0.145,
    "r7i.large": 0.1323, "r7g.large": 0.1071,
}  # fmt: skip
EBS_GP3_GB_MONTH = 0.08
NAT_GATEWAY_HOURLY = 0.045
PUBLIC_IPV4_HOURLY = 0.005
INTERFACE_ENDPOINT_AZ_HOURLY = 0.01
LOAD_BALANCER_HOURLY = 0.0225
# One load-balancer capacity unit: the floor of a tier that serves anything at all.
LCU_HOURLY = 0.008
WEB_ACL_MONTHLY, WEB_ACL_RULE_MONTHLY = 5.0, 1.0
KMS_KEY_MONTHLY = 1.0
ALARM_METRIC_MONTHLY = 0.10  # standard resolution, per metric the alarm reads
COMPOSITE_ALARM_MONTHLY = 0.50
DASHBOARD_MONTHLY = 3.0
USAGE_RATES = (
    ("NAT gateway data processed", "0.045 USD/GB"),
    ("interface endpoint data processed", "0.01 USD/GB"),
    ("CloudWatch Logs ingestion (flow logs, WAF, instances)", "0.50 USD/GB"),
    ("WAF requests", "0.60 USD per million"),
    ("load balancer capacity above one LCU", "0.008 USD per LCU-hour"),
)


@dataclass(frozen=True)
class Line:
    item: str
    count: int
    at_min: float
    at_max: float


def resources(stacks: Iterable[Stack], resource_type: str) -> list[Json]:
    return [
        resource
        for stack in stacks
        for resource in stack.template.get("Resources", {}).values()
        if resource["Type"] == resource_type
    ]


def _instance_lines(stacks: Sequence[Stack]) -> list[Line]:
    lines = []
    for group in resources(stacks, "AWS::AutoScaling::AutoScalingGroup"):
        low, high = int(group["Properties"]["MinSize"]), int(group["Properties"]["MaxSize"])
        (data,) = (
            t["Properties"]["LaunchTemplateData"]
            for t in resources(stacks, "AWS::EC2::LaunchTemplate")
        )
        instance_type = data["InstanceType"]
        if instance_type not in INSTANCE_HOURLY:
            raise ValueError(
                f"no price for instance type {instance_type!r}: add its us-east-1 on-demand "
                "price to INSTANCE_HOURLY in tools/cost.py"
            )
        hourly = INSTANCE_HOURLY[instance_type] * HOURS_PER_MONTH
        gib = sum(int(m["Ebs"]["VolumeSize"]) for m in data.get("BlockDeviceMappings", []))
        item = f"EC2 {instance_type}, {low} to {high} instances"
        lines.append(Line(item, low, low * hourly, high * hourly))
        volume = gib * EBS_GP3_GB_MONTH
        lines.append(Line(f"EBS gp3, {gib} GiB per instance", low, low * volume, high * volume))
    return lines


def estimate(stacks: Sequence[Stack]) -> list[Line]:
    """Every priced resource of one environment's stacks, per month."""
    lines = _instance_lines(stacks)

    def fixed(item: str, count: int, monthly: float) -> None:
        if count:
            lines.append(Line(item, count, count * monthly, count * monthly))

    nat_gateways = len(resources(stacks, "AWS::EC2::NatGateway"))
    fixed("NAT gateway (hours)", nat_gateways, NAT_GATEWAY_HOURLY * HOURS_PER_MONTH)
    interface_azs = sum(
        len(e["Properties"].get("SubnetIds", []))
        for e in resources(stacks, "AWS::EC2::VPCEndpoint")
        if e["Properties"].get("VpcEndpointType") == "Interface"
    )
    fixed("interface endpoint x AZ", interface_azs, INTERFACE_ENDPOINT_AZ_HOURLY * HOURS_PER_MONTH)
    balancers = resources(stacks, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    fixed(
        "Application Load Balancer (hours + one LCU)",
        len(balancers),
        (LOAD_BALANCER_HOURLY + LCU_HOURLY) * HOURS_PER_MONTH,
    )
    # Every NAT gateway's Elastic IP and one address per AZ of an internet-facing load balancer.
    addresses = nat_gateways + sum(len(b["Properties"].get("Subnets", [])) for b in balancers)
    fixed("public IPv4 address", addresses, PUBLIC_IPV4_HOURLY * HOURS_PER_MONTH)
    for acl in resources(stacks, "AWS::WAFv2::WebACL"):
        rules = len(acl["Properties"].get("Rules", []))
        fixed(f"WAF web ACL with {rules} rules", 1, WEB_ACL_MONTHLY + rules * WEB_ACL_RULE_MONTHLY)
    fixed("KMS key", len(resources(stacks, "AWS::KMS::Key")), KMS_KEY_MONTHLY)
    alarms = resources(stacks, "AWS::CloudWatch::Alarm")
    metrics = sum(_alarm_metrics(alarm) for alarm in alarms)
    if alarms:
        lines.append(
            Line(
                f"CloudWatch alarms ({metrics} metrics)",
                len(alarms),
                metrics * ALARM_METRIC_MONTHLY,
                metrics * ALARM_METRIC_MONTHLY,
            )
        )
    composites = len(resources(stacks, "AWS::CloudWatch::CompositeAlarm"))
    fixed("CloudWatch composite alarm", composites, COMPOSITE_ALARM_MONTHLY)
    fixed(
        "CloudWatch dashboard",
        len(resources(stacks, "AWS::CloudWatch::Dashboard")),
        DASHBOARD_MONTHLY,
    )
    return lines


def _alarm_metrics(alarm: Json) -> int:
    """CloudWatch bills an alarm per metric it reads; an expression reads none itself."""
    queries = alarm["Properties"].get("Metrics")
    if queries is None:
        return 1
    return sum(1 for query in queries if "MetricStat" in query)


def environments(assembly: CloudAssembly) -> dict[str, list[Stack]]:
    found: dict[str, list[Stack]] = {}
    for stack in assembly.stacks:
        # The stacks of a stage (`Prod/Network`); the pipeline stands outside every stage.
        if "/" in stack.path and (name := tagged_environment(stack)) is not None:
            found.setdefault(name, []).append(stack)
    return found


def table(name: str, lines: Sequence[Line]) -> str:
    rows = [
        f"| {line.item} | {line.count} | {line.at_min:,.2f} | {line.at_max:,.2f} |"
        for line in lines
    ]
    low, high = sum(line.at_min for line in lines), sum(line.at_max for line in lines)
    return "\n".join(
        [
            f"**{name}**: about **{low:,.0f} USD** a month at minimum capacity, "
            f"{high:,.0f} USD at maximum (before usage)",
            "",
            "| item | count | USD/month at min | USD/month at max |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )


def report(assembly: CloudAssembly, names: Sequence[str] | None = None) -> str:
    by_environment = environments(assembly)
    chosen = names or list(by_environment)
    missing = [name for name in chosen if name not in by_environment]
    if missing:
        raise ValueError(
            f"no environment {missing} in {assembly.directory} (found: {list(by_environment)})"
        )
    parts = [
        table(name, estimate(by_environment[name])) for name in sorted(chosen, key=chosen.index)
    ]
    usage = "\n".join(f"- {item}: {rate}" for item, rate in USAGE_RATES)
    return "\n\n".join(
        [
            f"Monthly list prices, us-east-1 on demand, as of {PRICES_AS_OF} "
            f"({HOURS_PER_MONTH} hours), counted from the synthesized templates (`make cost`).",
            *parts,
            f"Usage on top, by the workload:\n{usage}",
        ]
    )


DOCUMENTED = GeneratedBlock(
    Path(__file__).resolve().parents[1] / "README.md",
    "<!-- cost:begin (make cost-readme) -->",
    "<!-- cost:end -->",
)


def readme_environments() -> list[str]:
    """The example environments that reach AWS: an emulator-only one costs nothing."""
    from constructs_lib.config import AppConfig
    from tools.context import fixture_context

    config = AppConfig.from_context(fixture_context())
    return [e.name for e in config.environments if not e.emulator]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"))
    parser.add_argument("--env", default="", help="environments, comma-separated (default: all)")
    parser.add_argument(
        "--readme",
        action="store_true",
        help="rewrite README.md's Cost block from the example values (tests/fixture_context.json)",
    )
    args = parser.parse_args(argv)
    names = [n for n in args.env.split(",") if n]
    try:
        if args.readme:
            with tempfile.TemporaryDirectory() as scratch:
                text = report(example_assembly(Path(scratch)), readme_environments())
            DOCUMENTED.write(text)
            print(f"==> {DOCUMENTED.path.name}: Cost block rewritten")
            return 0
        print(report(read(args.assembly), names))
    except (FileNotFoundError, ValueError) as error:
        print(f"cost: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
