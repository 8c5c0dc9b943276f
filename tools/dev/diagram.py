"""`make diagram`: the architecture picture of one environment, drawn from the cloud assembly.

Everything comes from what `cdk synth` wrote to cdk.out (through tools/cloud_assembly.py), never
from a hand-drawn file: one cluster per stack of the environment, its main resources grouped by tier
(public, app, data, security), the network path internet -> load balancer -> instances -> database
tier read from the security-group rules, and every cross-stack reference (`Fn::ImportValue`) as an
edge labelled with what crosses. A stack outside any environment that deploys this one (the
pipeline) gets its own cluster.

DOT generation (`build_dot`) is pure Python, so the tests check it without Graphviz; `render` runs
Graphviz compiled to WebAssembly (@viz-js/viz from package-lock.json, tools/dev/render_svg.mjs) on
the pinned Node.js: no system package, no root. The README's picture is drawn from the test
fixture's context (tools/context.py), so it shows the example values and a team's own cdk.json
never makes it stale; `--assembly cdk.out` draws a team's own environments instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.cloud_assembly import CloudAssembly, Stack, read, resource_tag, tagged_environment, walk
from tools.context import example_assembly

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = ROOT / "docs" / "architecture.svg"
RENDERER = ROOT / "tools" / "dev" / "render_svg.mjs"
NODE = ROOT / "node_modules" / ".bin" / "node"
DEFAULT_ENVIRONMENT = "prod"

INTERNET = "internet"
ANYWHERE = {"0.0.0.0/0", "::/0"}

Json = dict[str, Any]
# (stack name, logical ID): one resource anywhere in the assembly.
Key = tuple[str, str]
INTERNET_KEY: Key = ("", INTERNET)


def load_stacks(assembly: CloudAssembly) -> list[Stack]:
    """Every stack of the assembly, nested assemblies (stages) included."""
    return list(assembly.stacks)


def stacks_of_environment(stacks: Sequence[Stack], environment: str) -> list[Stack]:
    """The stacks of one environment, then any stack outside every environment that deploys it."""
    own = [s for s in stacks if tagged_environment(s) == environment]
    if not own:
        known = sorted({tagged_environment(s) or "?" for s in stacks})
        raise ValueError(
            f"no stack of environment {environment!r} in the assembly (found: {', '.join(known)});"
            " to draw your own environments: make synth, then --assembly cdk.out"
        )
    names = {s.stack_name for s in own}
    deployers = [s for s in stacks if s.stack_name not in names and _deployed_stacks(s, names)]
    return own + deployers


def _deployed_stacks(stack: Stack, names: set[str]) -> list[str]:
    """Which of `names` the template mentions as literal strings (a pipeline's deploy actions)."""
    mentioned = {
        node for node in walk(stack.template.get("Resources", {})) if isinstance(node, str)
    }
    return sorted(names & mentioned)


def _target(node: Any) -> tuple[str, str] | None:
    """(logical ID, attribute) of a `Ref` or `Fn::GetAtt`; `Ref` has the attribute "Ref"."""
    if not isinstance(node, dict) or len(node) != 1:
        return None
    if isinstance(node.get("Ref"), str):
        return node["Ref"], "Ref"
    get_att = node.get("Fn::GetAtt")
    if isinstance(get_att, list) and len(get_att) == 2:
        return str(get_att[0]), str(get_att[1])
    if isinstance(get_att, str) and "." in get_att:
        logical_id, attribute = get_att.split(".", 1)
        return logical_id, attribute
    return None


def _import_name(node: Any) -> str | None:
    if isinstance(node, dict) and len(node) == 1 and "Fn::ImportValue" in node:
        name = node["Fn::ImportValue"]
        return name if isinstance(name, str) else json.dumps(name, sort_keys=True)
    return None


def imports_of(template: Mapping[str, Any]) -> set[str]:
    """Every export name the template imports."""
    return {
        name for node in walk(template.get("Resources", {})) if (name := _import_name(node))
    } | {name for node in walk(template.get("Outputs", {})) if (name := _import_name(node))}


def exports_of(template: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Export name -> (logical ID, attribute) of what the export's value refers to."""
    found: dict[str, tuple[str, str]] = {}
    for output in template.get("Outputs", {}).values():
        export = output.get("Export", {}).get("Name")
        if not isinstance(export, str):
            continue
        target = next((t for n in walk(output.get("Value")) if (t := _target(n))), None)
        found[export] = target or ("", "value")
    return found


PUBLIC, APP, DATA, SECURITY, NETWORK = "public", "app", "data", "security", "network"
TIERS = (PUBLIC, APP, DATA, SECURITY)
TIER_LABELS = {
    PUBLIC: "public tier",
    APP: "app tier",
    DATA: "data tier",
    SECURITY: "security",
    NETWORK: "",
}
TIER_COLOURS = {PUBLIC: "#dbeafe", APP: "#dcfce7", DATA: "#fef3c7", SECURITY: "#fee2e2"}

# type -> (tier, what it is, one node per resource?). Types not listed are not drawn (routes,
# associations, policies, rules: the rules become the network path's edges).
MAIN_TYPES: dict[str, tuple[str, str, bool]] = {
    "AWS::EC2::VPC": (NETWORK, "VPC", True),
    "AWS::EC2::InternetGateway": (PUBLIC, "Internet gateway", False),
    "AWS::EC2::NatGateway": (PUBLIC, "NAT gateway", False),
    "AWS::EC2::Subnet": (APP, "subnet", False),
    "AWS::EC2::VPCEndpoint": (APP, "VPC endpoint", False),
    "AWS::Route53::RecordSet": (PUBLIC, "DNS record", True),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (PUBLIC, "Load balancer", True),
    "AWS::ElasticLoadBalancingV2::Listener": (PUBLIC, "Listener", False),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (APP, "Target group", True),
    "AWS::AutoScaling::AutoScalingGroup": (APP, "Auto Scaling group", True),
    "AWS::EC2::LaunchTemplate": (APP, "Launch template", True),
    "AWS::EC2::Instance": (APP, "EC2 instance", True),
    "AWS::SNS::Topic": (APP, "SNS topic", True),
    "AWS::CloudWatch::Alarm": (APP, "CloudWatch alarm", False),
    "AWS::CloudWatch::CompositeAlarm": (APP, "Composite alarm", False),
    "AWS::ARCZonalShift::ZonalAutoshiftConfiguration": (PUBLIC, "ARC zonal autoshift", True),
    "AWS::S3::Bucket": (DATA, "S3 bucket", True),
    "AWS::Logs::LogGroup": (DATA, "Log group", True),
    "AWS::EC2::SecurityGroup": (SECURITY, "Security group", True),
    "AWS::KMS::Key": (SECURITY, "KMS key", True),
    "AWS::EC2::FlowLog": (SECURITY, "VPC flow log", True),
    "AWS::IAM::Role": (SECURITY, "IAM role", True),
    "AWS::IAM::InstanceProfile": (SECURITY, "Instance profile", True),
    "AWS::WAFv2::WebACL": (SECURITY, "WAF web ACL", True),
    "AWS::CertificateManager::Certificate": (SECURITY, "ACM certificate", True),
    "AWS::CodePipeline::Pipeline": (APP, "CodePipeline", True),
    "AWS::CodeBuild::Project": (APP, "CodeBuild project", False),
}
# Kinds whose members' names say nothing (`PublicSubnet1`, `NATGateway`): counted, not listed.
UNNAMED_KINDS = ("subnet", "NAT gateway", "Internet gateway")
MAX_INDIVIDUAL = 3
SUBNET_TIERS = {"Public": PUBLIC, "Private": APP, "Isolated": DATA}
# Construct IDs that say nothing about the resource (CDK's L1 children, L2 wrappers).
FILLER_IDS = {"Resource", "Default", "ASG", "FlowLog", "Subnet", "Role", "Key", "Group"}
REF_MEANINGS = {
    "AWS::EC2::VPC": "VPC ID",
    "AWS::EC2::Subnet": "subnet ID",
    "AWS::EC2::SecurityGroup": "group ID",
    "AWS::IAM::Role": "role name",
    "AWS::IAM::InstanceProfile": "profile name",
    "AWS::S3::Bucket": "bucket name",
    "AWS::KMS::Key": "key ID",
    "AWS::Logs::LogGroup": "log group name",
    "AWS::SNS::Topic": "topic ARN",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "target group ARN",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer ARN",
}
ATTRIBUTE_MEANINGS = {"Arn": "ARN", "GroupId": "group ID", "CidrBlock": "CIDR"}


@dataclass
class Node:
    node_id: str
    stack: str
    tier: str
    kind: str
    names: list[str] = field(default_factory=list)
    logical_ids: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        count = len(self.logical_ids)
        squeezed = self.kind.replace(" ", "").lower()
        unnamed = self.kind.endswith(UNNAMED_KINDS) or all(
            not name or name.lower() in squeezed for name in self.names
        )
        lines = [self.kind if count == 1 else f"{self.kind}s \u00d7{count}"]
        if not unnamed:
            names = sorted(set(self.names))
            shown = names[:4] + (["\u2026"] if len(names) > 4 else [])
            lines += [", ".join(shown[i : i + 2]) for i in range(0, len(shown), 2)]
        return "\n".join([*lines, *self.details])


@dataclass
class Edge:
    source: str
    target: str
    label: str
    style: str
    tooltip: str = ""
    lhead: str = ""
    constraint: bool = True


@dataclass
class Diagram:
    title: str
    stacks: list[Stack]
    nodes: dict[str, Node] = field(default_factory=dict)
    # (stack name, logical ID) -> node ID
    owner: dict[tuple[str, str], str] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    drawn: Counter[str] = field(default_factory=Counter)


def cluster_id(stack_name: str) -> str:
    return "cluster_" + re.sub(r"\W", "_", stack_name)


def short_name(resource: Json, logical_id: str, stack_path: str, kind: str = "") -> str:
    """A name from the construct path: `Prod/Security/SecurityGroups/Web/Resource` -> `Web`."""
    path = resource.get("Metadata", {}).get("aws:cdk:path")
    if not isinstance(path, str):
        return re.sub(r"[0-9A-F]{8}$", "", logical_id)
    relative = path.removeprefix(stack_path + "/").split("/")
    parts = [p for p in relative if p not in FILLER_IDS]
    if not parts:
        return relative[0]
    # `Web/LoadBalancer` says more than `LoadBalancer` under "Load balancer".
    if len(parts) > 1 and parts[-1].lower() == kind.replace(" ", "").lower():
        return parts[-2]
    return parts[-1]


def _tier_and_kind(resource: Json) -> tuple[str, str, bool] | None:
    rtype = resource["Type"]
    if rtype.startswith("Custom::"):
        return SECURITY, "Custom resource", True
    main = MAIN_TYPES.get(rtype)
    if main is None:
        return None
    tier, kind, individual = main
    properties: Json = resource.get("Properties", {})
    if rtype == "AWS::EC2::Subnet":
        subnet_type = resource_tag(resource, "aws-cdk:subnet-type") or "Private"
        subnet_name = resource_tag(resource, "aws-cdk:subnet-name") or subnet_type
        return SUBNET_TIERS.get(subnet_type, APP), f"{subnet_name} subnet", False
    if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        internal = properties.get("Scheme") == "internal"
        return (APP if internal else PUBLIC), kind, individual
    if rtype == "AWS::EC2::VPCEndpoint":
        endpoint_type = properties.get("VpcEndpointType", "Gateway")
        return tier, f"{endpoint_type} endpoint", False
    return tier, kind, individual


def _is_lambda_plumbing(resource: Json) -> bool:
    """Roles and functions that only serve custom resources: drawn as their custom resource."""
    if resource["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::Permission"):
        return True
    if resource["Type"] == "AWS::IAM::Role":
        document = resource.get("Properties", {}).get("AssumeRolePolicyDocument", {})
        services = {n for n in walk(document) if isinstance(n, str)}
        return "lambda.amazonaws.com" in services
    return False


def _references(value: Any) -> Iterator[tuple[str, str]]:
    for node in walk(value):
        if target := _target(node):
            yield target


def build_model(stacks: Sequence[Stack], *, title: str) -> Diagram:
    diagram = Diagram(title=title, stacks=list(stacks))
    for stack in stacks:
        resources: Json = stack.template.get("Resources", {})
        plumbing = {
            path.rsplit("/", 2)[0]
            for r in resources.values()
            if _is_lambda_plumbing(r)
            and isinstance(path := r.get("Metadata", {}).get("aws:cdk:path"), str)
        }
        drawn: list[tuple[str, str, str, str, bool]] = []
        for logical_id, resource in resources.items():
            path = resource.get("Metadata", {}).get("aws:cdk:path", "")
            if _is_lambda_plumbing(resource) or (
                resource["Type"] == "AWS::Logs::LogGroup"
                and any(path.startswith(prefix + "/") for prefix in plumbing)
            ):
                continue
            if (classified := _tier_and_kind(resource)) is not None:
                name = short_name(resource, logical_id, stack.path, classified[1])
                drawn.append((logical_id, name, *classified))
        # Many of one kind (a pipeline's roles) read better as one node than as a column.
        per_kind = Counter(kind for _, _, _, kind, _ in drawn)
        for logical_id, name, tier, kind, individual in drawn:
            one_each = individual and per_kind[kind] <= MAX_INDIVIDUAL
            node_id = (
                f"{stack.stack_name}/{kind}/{name}" if one_each else f"{stack.stack_name}/{kind}"
            )
            node = diagram.nodes.setdefault(
                node_id, Node(node_id=node_id, stack=stack.stack_name, tier=tier, kind=kind)
            )
            node.names.append(name)
            node.logical_ids.append(logical_id)
            diagram.owner[(stack.stack_name, logical_id)] = node_id
            diagram.drawn[stack.stack_name] += 1
    _network_path(diagram)
    _cross_stack_edges(diagram)
    _deploy_edges(diagram)
    return diagram


def _resolver(diagram: Diagram) -> dict[str, tuple[str, str, str]]:
    """Export name -> (producer stack, logical ID, attribute)."""
    return {
        name: (stack.stack_name, logical_id, attribute)
        for stack in diagram.stacks
        for name, (logical_id, attribute) in exports_of(stack.template).items()
    }


def _global_ref(
    value: Any, stack: str, exports: Mapping[str, tuple[str, str, str]]
) -> tuple[str, str] | None:
    """(stack, logical ID) that `value` refers to, following an import to its producer."""
    if target := _target(value):
        return stack, target[0]
    if (name := _import_name(value)) and name in exports:
        producer, logical_id, _ = exports[name]
        return producer, logical_id
    return None


def _ports(rule: Mapping[str, Any]) -> str:
    protocol = str(rule.get("IpProtocol", "tcp"))
    low, high = rule.get("FromPort"), rule.get("ToPort")
    if protocol == "-1":
        return "all traffic"
    return f"{protocol} {low}" if low == high else f"{protocol} {low}-{high}"


def _is_anywhere(rule: Mapping[str, Any]) -> bool:
    return rule.get("CidrIp") in ANYWHERE or rule.get("CidrIpv6") in ANYWHERE


def _network_path(diagram: Diagram) -> None:
    """internet -> load balancer -> instances -> database tier, from the security-group rules."""
    exports = _resolver(diagram)
    by_key: dict[Key, Json] = {
        (s.stack_name, lid): r
        for s in diagram.stacks
        for lid, r in s.template.get("Resources", {}).items()
    }
    groups = {k for k, r in by_key.items() if r["Type"] == "AWS::EC2::SecurityGroup"}

    # (source group or the internet, destination group) -> ports, inline and standalone rules.
    ingress: dict[tuple[Key, Key], list[str]] = defaultdict(list)
    egress_anywhere: dict[Key, list[str]] = defaultdict(list)
    for key, resource in by_key.items():
        properties: Json = resource.get("Properties", {})
        rules: list[tuple[Key | None, Json]] = []
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            rules = [(key, rule) for rule in properties.get("SecurityGroupIngress", [])]
            for rule in properties.get("SecurityGroupEgress", []):
                if _is_anywhere(rule):
                    egress_anywhere[key].append(_ports(rule))
        elif resource["Type"] == "AWS::EC2::SecurityGroupIngress":
            rules = [(_global_ref(properties.get("GroupId"), key[0], exports), properties)]
        for destination, rule in rules:
            if destination is None or destination not in groups:
                continue
            source = _global_ref(rule.get("SourceSecurityGroupId"), key[0], exports)
            if _is_anywhere(rule):
                ingress[(INTERNET_KEY, destination)].append(_ports(rule))
            elif source is not None and source in groups:
                ingress[(source, destination)].append(_ports(rule))

    attached = _attachments(diagram, by_key, groups, exports)

    # Tier of each group by its distance from the internet: 0 public, 1 app, 2+ data.
    depth: dict[Key, int] = {INTERNET_KEY: -1}
    frontier = [INTERNET_KEY]
    while frontier:
        current = frontier.pop(0)
        for source, destination in ingress:
            if source == current and destination not in depth:
                depth[destination] = depth[current] + 1
                frontier.append(destination)
    del depth[INTERNET_KEY]
    for group, level in depth.items():
        if group in diagram.owner:
            diagram.nodes[diagram.owner[group]].tier = (PUBLIC, APP, DATA)[min(level, 2)]

    def fronts(group: Key) -> list[str]:
        if group == INTERNET_KEY:
            return [INTERNET]
        return sorted(attached.get(group) or {diagram.owner[group]})

    if any(source == INTERNET_KEY for source, _ in ingress):
        diagram.nodes[INTERNET] = Node(INTERNET, stack="", tier="", kind="Internet", names=[""])
    style = 'color="#1d4ed8", fontcolor="#1d4ed8", penwidth=2.5'
    for (source, destination), ports in sorted(ingress.items()):
        label = ", ".join(dict.fromkeys(ports))
        for tail in fronts(source):
            for head in fronts(destination):
                diagram.edges.append(Edge(tail, head, label, style))

    # The database tier: a group that nothing is attached to yet, and the isolated subnets.
    isolated = [n for n in diagram.nodes.values() if n.tier == DATA and n.kind.endswith("subnet")]
    for group, level in depth.items():
        if level >= 2 and not attached.get(group) and group in diagram.owner:
            diagram.nodes[diagram.owner[group]].details.append("database tier: no instance yet")
            for subnets in isolated:
                diagram.edges.append(
                    Edge(
                        diagram.owner[group],
                        subnets.node_id,
                        "for databases in",
                        'style=dashed, color="#1d4ed8", fontcolor="#1d4ed8", dir=none',
                    )
                )

    # The app tier's egress to anywhere leaves through the NAT gateways.
    nat_gateways = [n.node_id for n in diagram.nodes.values() if n.kind == "NAT gateway"]
    for group, ports in egress_anywhere.items():
        if depth.get(group) != 1:
            continue
        label = "egress " + ", ".join(dict.fromkeys(ports))
        for tail in fronts(group):
            for head in nat_gateways:
                diagram.edges.append(
                    Edge(
                        tail,
                        head,
                        label,
                        'style=dotted, color="#1d4ed8", fontcolor="#1d4ed8"',
                        constraint=False,
                    )
                )


def _attachments(
    diagram: Diagram,
    by_key: Mapping[Key, Json],
    groups: set[Key],
    exports: Mapping[str, tuple[str, str, str]],
) -> dict[Key, set[str]]:
    """Security group -> the drawn nodes it is attached to.

    A launch template stands for the Auto Scaling group that launches from it.
    """
    launched_by = {
        (key[0], target[0]): diagram.owner[key]
        for key, resource in by_key.items()
        if resource["Type"] == "AWS::AutoScaling::AutoScalingGroup" and key in diagram.owner
        for target in _references(resource.get("Properties", {}))
    }
    attached: dict[Key, set[str]] = defaultdict(set)
    for key, resource in by_key.items():
        if resource["Type"].startswith("AWS::EC2::SecurityGroup"):
            continue
        if resource["Type"] == "AWS::EC2::VPCEndpoint":
            continue
        node_id = launched_by.get(key) or diagram.owner.get(key)
        if node_id is None:
            continue
        for node in walk(resource.get("Properties", {})):
            ref = _global_ref(node, key[0], exports)
            if ref is not None and ref in groups:
                attached[ref].add(node_id)
    return attached


def crossing(resource_type: str, attribute: str) -> str:
    """What an export carries, in words: `AWS::EC2::Subnet` Ref -> `subnet ID`."""
    if attribute == "Ref":
        return REF_MEANINGS.get(resource_type, "Ref")
    return ATTRIBUTE_MEANINGS.get(attribute, attribute)


def _stack_anchor(diagram: Diagram, stack: str) -> str:
    """A node to point at when an edge ends at the stack itself."""
    return next(n.node_id for n in diagram.nodes.values() if n.stack == stack)


def _cross_stack_edges(diagram: Diagram) -> None:
    """One edge per producer node and consumer stack; its label says what crosses."""
    exports = _resolver(diagram)
    types = {
        (s.stack_name, lid): r["Type"]
        for s in diagram.stacks
        for lid, r in s.template.get("Resources", {}).items()
    }
    # (producer node, consumer stack) -> export name -> consumer node IDs
    crossings: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for stack in diagram.stacks:
        consumer = stack.stack_name
        sections = [("Resources", stack.template.get("Resources", {}))]
        sections.append(("Outputs", stack.template.get("Outputs", {})))
        for _, section in sections:
            for logical_id, element in section.items():
                for node in walk(element):
                    name = _import_name(node)
                    if name is None:
                        continue
                    if name not in exports:
                        raise ValueError(f"{consumer} imports {name}, which no stack exports")
                    producer, producer_id, _ = exports[name]
                    source = diagram.owner.get((producer, producer_id))
                    if source is None:
                        source = _stack_anchor(diagram, producer)
                    target = diagram.owner.get((consumer, logical_id), "")
                    crossings[(source, consumer)][name].add(target)
    for (source, consumer), names in sorted(crossings.items()):
        meanings: Counter[str] = Counter()
        for name in names:
            producer, producer_id, attribute = exports[name]
            meanings[crossing(types.get((producer, producer_id), ""), attribute)] += 1
        label = "\n".join(f"{m} \u00d7{n}" if n > 1 else m for m, n in sorted(meanings.items()))
        targets = sorted(set().union(*names.values()) - {""})
        lhead = "" if len(targets) == 1 else cluster_id(consumer)
        head = targets[0] if targets else _stack_anchor(diagram, consumer)
        tooltip = "; ".join(sorted(names))
        diagram.edges.append(
            Edge(
                source,
                head,
                label,
                'style=dashed, color="#6b7280", fontcolor="#374151"',
                tooltip=f"Fn::ImportValue: {tooltip}",
                lhead=lhead,
                constraint=False,
            )
        )


def _deploy_edges(diagram: Diagram) -> None:
    names = {s.stack_name for s in diagram.stacks}
    for stack in diagram.stacks:
        deployed = [n for n in _deployed_stacks(stack, names) if n != stack.stack_name]
        if not deployed:
            continue
        source = next(
            (
                n.node_id
                for n in diagram.nodes.values()
                if n.stack == stack.stack_name and n.kind == "CodePipeline"
            ),
            _stack_anchor(diagram, stack.stack_name),
        )
        for name in deployed:
            diagram.edges.append(
                Edge(
                    source,
                    _stack_anchor(diagram, name),
                    "deploys",
                    'style=bold, color="#7c3aed", fontcolor="#7c3aed"',
                    tooltip=f"{stack.stack_name} deploys {name}",
                    lhead=cluster_id(name),
                    constraint=False,
                )
            )


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render_dot(diagram: Diagram) -> str:
    legend = (
        "blue: network path, ports from the security-group rules \u00b7 grey dashed: cross-stack"
        " reference (Fn::ImportValue), labelled with what crosses \u00b7 purple: deploys"
    )
    lines = [
        "digraph architecture {",
        f"  graph [label={quote(diagram.title + chr(10) + legend)}, labelloc=t, fontsize=16,"
        " rankdir=LR,"
        # No newrank: with it, Graphviz 16 cannot rank the tiers across clusters and drops edges.
        ' compound=true, nodesep=0.25, ranksep=0.9, fontname="DejaVu Sans",'
        " splines=spline];",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontsize=10,'
        ' fontname="DejaVu Sans"];',
        '  edge [fontsize=9, fontname="DejaVu Sans"];',
    ]
    if INTERNET in diagram.nodes:
        # The entry point: the names users type (alias records), else the load balancer's own.
        label = "\n".join(["Internet", *entry_names(diagram)])
        lines.append(
            f'  {quote(INTERNET)} [label={quote(label)}, shape=ellipse, fillcolor="#e0e7ff"];'
        )
    for stack in diagram.stacks:
        resources = len(stack.template.get("Resources", {}))
        where = f"{stack.path} \u00b7 " if stack.path != stack.stack_name else ""
        title = (
            f"{stack.stack_name}\n{where}{resources} resources,"
            f" {diagram.drawn[stack.stack_name]} drawn"
        )
        lines.append(f"  subgraph {cluster_id(stack.stack_name)} {{")
        lines.append(
            f'    graph [label={quote(title)}, style="rounded,bold", color="#334155",'
            " fontsize=13, labeljust=l];"
        )
        nodes = [n for n in diagram.nodes.values() if n.stack == stack.stack_name]
        for tier in (NETWORK, *TIERS):
            members = sorted((n for n in nodes if n.tier == tier), key=lambda n: n.node_id)
            if not members:
                continue
            indent = "    "
            if tier != NETWORK:
                lines.append(f"    subgraph {cluster_id(stack.stack_name + '_' + tier)} {{")
                lines.append(
                    f'      graph [label={quote(TIER_LABELS[tier])}, style="rounded,filled",'
                    f' fillcolor="{TIER_COLOURS[tier]}", color="#94a3b8", fontsize=10];'
                )
                indent = "      "
            for node in members:
                lines.append(f"{indent}{quote(node.node_id)} [label={quote(node.label)}];")
            if tier != NETWORK:
                lines.append("    }")
        lines.append("  }")
    # One column per tier across every stack, left to right in the order of the network path.
    columns: list[list[str]] = [[INTERNET]] if INTERNET in diagram.nodes else []
    for tier in (NETWORK, *TIERS):
        column = sorted(n.node_id for n in diagram.nodes.values() if n.tier == tier)
        if column:
            columns.append(column)
    for column in columns:
        lines.append(f"  {{ rank=same; {' '.join(quote(m) for m in column)} }}")
    for left, right in itertools.pairwise(columns):
        lines.append(f"  {quote(left[0])} -> {quote(right[0])} [style=invis];")
    for edge in diagram.edges:
        attributes = [f"label={quote(edge.label)}", edge.style]
        if edge.tooltip:
            attributes.append(f"tooltip={quote(edge.tooltip)}")
            attributes.append(f"labeltooltip={quote(edge.tooltip)}")
        if edge.lhead:
            attributes.append(f"lhead={edge.lhead}")
        if not edge.constraint:
            attributes.append("constraint=false")
        lines.append(f"  {quote(edge.source)} -> {quote(edge.target)} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def entry_names(diagram: Diagram) -> list[str]:
    """The host names of the web tier's alias records (`domainName`), in template order."""
    return [
        str(resource["Properties"]["Name"]).rstrip(".")
        for stack in diagram.stacks
        for resource in stack.template.get("Resources", {}).values()
        if resource["Type"] == "AWS::Route53::RecordSet"
        and isinstance(resource.get("Properties", {}).get("Name"), str)
    ]


def build_dot(stacks: Sequence[Stack], *, title: str) -> str:
    """DOT source for these stacks; needs no Graphviz."""
    return render_dot(build_model(stacks, title=title))


def render_svg(dot_source: str) -> str:
    """The picture as SVG, drawn by the WebAssembly Graphviz that package-lock.json pins."""
    if not NODE.exists():
        raise RuntimeError(f"{NODE} is missing: run `make setup`")
    completed = subprocess.run(
        [str(NODE), str(RENDERER)],
        input=dot_source,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"Graphviz (WebAssembly) failed:\n{completed.stderr}")
    return completed.stdout


def title_of(environment: str, source: str) -> str:
    return f"Environment {environment}: drawn from the synthesized cloud assembly ({source})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--assembly",
        type=Path,
        help="a cdk.out folder to draw (default: the app of the test fixture's example values)",
    )
    parser.add_argument("--env", default=DEFAULT_ENVIRONMENT, help="environment to draw")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="SVG file to write")
    parser.add_argument("--dot", action="store_true", help="print the DOT source, render nothing")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        try:
            if args.assembly is None:
                assembly, source = example_assembly(Path(scratch)), "example values"
            else:
                assembly, source = read(args.assembly), args.assembly.name
            stacks = stacks_of_environment(load_stacks(assembly), args.env)
        except (FileNotFoundError, ValueError) as error:
            print(f"diagram: {error}", file=sys.stderr)
            return 2
        dot_source = build_dot(stacks, title=title_of(args.env, source))
    if args.dot:
        sys.stdout.write(dot_source)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_svg(dot_source))
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"==> {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
