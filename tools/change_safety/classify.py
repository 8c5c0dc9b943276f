"""The one classification of a change to a live environment, used by every path that deploys.

Input, per stack: the template CloudFormation holds now (deployed, or synthesized at a base
commit), the template about to be deployed, and optionally the change set CloudFormation computed
for it (`DescribeChangeSet`'s `Changes`). Output: the findings a person must see before the deploy,
each with the resource, the kind of change, why, and whether it is blocked.

Replacement comes from the change set when there is one (CloudFormation's own answer, conditional
replacements included) and otherwise from the resource schemas' create-only properties
(schemas.py). Either way a replacement cascades: a resource whose create-only property refers to
a replaced resource (`Ref`, `Fn::GetAtt`, `Fn::Sub`, or `Fn::ImportValue` of an export whose
value changes with it) gets a new physical ID too, across stacks of the same assembly; the
finding names that chain.

Nothing here looks at `Metadata` or at `AWS::CDK::Metadata`: the CDK rewrites them on every synth
(construct paths, version analytics) and CloudFormation changes nothing in the account for them.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tools.change_safety.schemas import DEFAULT_REGION, create_only_properties

Json = dict[str, Any]


class Kind(StrEnum):
    STATEFUL_REPLACEMENT = "stateful-replacement"
    STATEFUL_DELETION = "stateful-deletion"
    EXPORT_REMOVED = "export-removed"
    EXPORT_CHANGED = "export-changed"
    ACCESS_WIDENING = "access-widening"
    INSTANCE_CYCLING = "instance-cycling"
    # A stateless resource gets a new physical ID: nothing is lost, but anything that holds its
    # old ID outside the stack (a person's bookmark, another account's allow list) goes stale.
    REPLACEMENT = "replacement"


# Where data or an identity lives that a replacement or deletion would lose: the contents (keys,
# buckets, logs), or what clients have already resolved (load balancer DNS, certificate, records,
# topic subscriptions, VPC and subnet IDs that other accounts and peerings name).
STATEFUL_TYPES = frozenset(
    {
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::Logs::LogGroup",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::CertificateManager::Certificate",
        "AWS::Route53::RecordSet",
        "AWS::Route53::HostedZone",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::DynamoDB::Table",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::EFS::FileSystem",
        "AWS::ECR::Repository",
        "AWS::SecretsManager::Secret",
    }
)
# The policies that keep a resource when CloudFormation deletes it: whoever set one said "stateful".
KEEPING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
# Resource types whose change cycles instances rather than replacing anything that holds data.
LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"
AUTO_SCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"
INSTANCE = "AWS::EC2::Instance"
INSTANCE_PROPERTIES = ("ImageId", "UserData", "InstanceType", "LaunchTemplate")
GROUP_LAUNCH_PROPERTIES = ("LaunchTemplate", "LaunchConfigurationName", "MixedInstancesPolicy")
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})
_SUB_REFERENCE = re.compile(r"\$\{(?!!)([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


@dataclass(frozen=True)
class StackChange:
    """One stack before and after. `old` is None for a stack that does not exist yet."""

    stack: str
    old: Json | None
    new: Json
    region: str = DEFAULT_REGION
    # `DescribeChangeSet`'s `Changes`, as boto3 returns them; None: predict from the schemas.
    change_set: Sequence[Json] | None = None


@dataclass(frozen=True)
class Finding:
    stack: str
    logical_id: str
    resource_type: str
    kind: Kind
    why: str
    blocked: bool
    # For a cascaded replacement: "stack/LogicalId" from the first replaced resource to this one.
    chain: tuple[str, ...] = ()


@dataclass(frozen=True)
class Classification:
    findings: tuple[Finding, ...]
    # In-place updates and additions that need no one's attention, as "stack/LogicalId".
    unremarkable: tuple[str, ...] = ()
    stacks: tuple[str, ...] = field(default=())

    @property
    def blocked(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocked)


@dataclass(frozen=True)
class _Cause:
    reason: str
    # The replaced resource ("stack/LogicalId") this one is replaced because of; None: direct.
    via: str | None = None


def resources(template: Mapping[str, Any] | None) -> dict[str, Json]:
    if template is None:
        return {}
    found: dict[str, Json] = template.get("Resources", {})
    return {lid: r for lid, r in found.items() if r.get("Type") not in IGNORED_TYPES}


def is_stateful(resource: Mapping[str, Any]) -> bool:
    """The one notion of "stateful" the classifier and the stack policy share."""
    return resource.get("Type") in STATEFUL_TYPES or bool(
        {resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")} & KEEPING_POLICIES
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _without_metadata(resource: Mapping[str, Any]) -> Json:
    return {key: value for key, value in resource.items() if key != "Metadata"}


def _values_at(value: Any, path: Sequence[str]) -> list[Any]:
    """Every value at a create-only path (`*` walks every item of a list); absent: none."""
    if not path:
        return [value]
    head, rest = path[0], path[1:]
    if head == "*":
        items = value if isinstance(value, list) else []
        return [found for item in items for found in _values_at(item, rest)]
    if isinstance(value, dict) and head in value:
        return _values_at(value[head], rest)
    return []


def references(value: Any) -> Iterator[tuple[str, str]]:
    """("resource", logical ID) and ("import", export name) for every reference inside `value`."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str) and not argument.startswith("AWS::"):
            yield "resource", argument
        elif key == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
            yield "resource", target
        elif key == "Fn::ImportValue":
            yield "import", _canonical(argument)
            yield from references(argument)
        elif key == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) else argument
            variables = argument[1] if isinstance(argument, list) and len(argument) > 1 else {}
            for name in _SUB_REFERENCE.findall(text if isinstance(text, str) else ""):
                if name not in variables:
                    yield "resource", name
            yield from references(variables)
        else:
            yield from references(argument)


def _exports(template: Mapping[str, Any] | None) -> dict[str, tuple[str, Any]]:
    """Export name (canonical JSON) -> (output logical ID, value)."""
    if template is None:
        return {}
    return {
        _canonical(output["Export"]["Name"]): (output_id, output.get("Value"))
        for output_id, output in template.get("Outputs", {}).items()
        if "Export" in output
    }


def _imports(template: Mapping[str, Any] | None) -> set[str]:
    return {name for kind, name in references(template or {}) if kind == "import"}


def _direct_replacements(change: StackChange) -> dict[str, _Cause]:
    old, new = resources(change.old), resources(change.new)
    replaced: dict[str, _Cause] = {}
    for logical_id in old.keys() & new.keys():
        before, after = old[logical_id], new[logical_id]
        if before["Type"] != after["Type"]:
            replaced[logical_id] = _Cause(f"type changes to {after['Type']}")
            continue
        changed = [
            path
            for path in create_only_properties(after["Type"], change.region)
            if _canonical(_values_at(before.get("Properties", {}), path.split("/")))
            != _canonical(_values_at(after.get("Properties", {}), path.split("/")))
        ]
        if changed:
            replaced[logical_id] = _Cause(f"{', '.join(changed)} changed (create-only)")
    return replaced


def _change_set_replacements(change: StackChange) -> dict[str, _Cause]:
    """What CloudFormation itself says it will replace, and because of what.

    A detail whose `ChangeSource` is `ResourceReference` or `ResourceAttribute` names the resource
    it follows in `CausingEntity` (`Vpc` or `Vpc.CidrBlock`): that is the cascade.
    """
    replaced: dict[str, _Cause] = {}
    for entry in change.change_set or ():
        resource_change = entry.get("ResourceChange", {})
        if entry.get("Type") != "Resource" or resource_change.get("Action") != "Modify":
            continue
        replacement = resource_change.get("Replacement")
        if replacement not in ("True", "Conditional"):
            continue
        direct: list[str] = []
        causes: list[str] = []
        for detail in resource_change.get("Details", []):
            target = detail.get("Target", {})
            if target.get("RequiresRecreation") not in ("Always", "Conditionally"):
                continue
            entity = detail.get("CausingEntity")
            if detail.get("ChangeSource") in ("ResourceReference", "ResourceAttribute") and entity:
                causes.append(str(entity).split(".")[0])
            else:
                direct.append(str(target.get("Name") or target.get("Attribute")))
        qualifier = " (change set: Replacement Conditional)" if replacement == "Conditional" else ""
        logical_id = resource_change["LogicalResourceId"]
        if direct or not causes:
            reason = f"{', '.join(direct) or 'a property'} changed (change set){qualifier}"
            replaced[logical_id] = _Cause(reason)
        else:
            replaced[logical_id] = _Cause(
                f"refers to {causes[0]}, which is replaced (change set){qualifier}",
                via=f"{change.stack}/{causes[0]}",
            )
    return replaced


def _undecided(change: StackChange) -> set[str]:
    """Resources a change set lists as modified without saying whether it replaces them.

    The API reference has `Replacement` on every `Modify`; an emulator (moto) leaves it out.
    Those fall back to the schema prediction rather than passing as "not replaced". A resource
    the change set does not list at all is one CloudFormation leaves alone.
    """
    if change.change_set is None:
        return set(resources(change.new))
    return {
        entry["ResourceChange"]["LogicalResourceId"]
        for entry in change.change_set
        if entry.get("Type") == "Resource"
        and entry.get("ResourceChange", {}).get("Action") == "Modify"
        and "Replacement" not in entry["ResourceChange"]
    }


def _cascade(changes: Sequence[StackChange], replaced: dict[str, _Cause]) -> set[str]:
    """Spread replacements along create-only references until nothing more changes.

    Returns the exports (canonical name, as "stack|name") whose value changes with a replacement.
    Within a stack that has a change set, CloudFormation already spread them (its `Details`), so
    only imports of changed exports are followed there: a change set is computed against the
    producer's current exports and cannot see what the producer's own deploy will change.
    """
    changed_exports: dict[str, str] = {}
    while True:
        grew = False
        for change in changes:
            old_exports = _exports(change.old)
            for name, (_, value) in _exports(change.new).items():
                if name in changed_exports or name not in old_exports:
                    continue
                for kind, target in references(value):
                    key = f"{change.stack}/{target}"
                    if kind == "resource" and key in replaced:
                        changed_exports[name] = key
                        grew = True
                        break
        for change in changes:
            old, new = resources(change.old), resources(change.new)
            undecided = _undecided(change)
            for logical_id in sorted(old.keys() & new.keys()):
                key = f"{change.stack}/{logical_id}"
                known = replaced.get(key)
                if known is not None and known.via is not None:
                    continue
                after = new[logical_id]
                for path in create_only_properties(after["Type"], change.region):
                    values = _values_at(after.get("Properties", {}), path.split("/"))
                    cause = _first_replaced_reference(
                        change.stack,
                        values,
                        replaced,
                        changed_exports,
                        follow_references=logical_id in undecided,
                    )
                    if cause is None:
                        continue
                    target, how = cause
                    # A subnet's own range changes with the VPC's: its chain still starts there.
                    reason = f"{known.reason}; {path} {how}" if known else f"{path} {how}"
                    replaced[key] = _Cause(reason, via=target)
                    grew = grew or known is None
                    break
        if not grew:
            return set(changed_exports)


def _first_replaced_reference(
    stack: str,
    values: Iterable[Any],
    replaced: Mapping[str, _Cause],
    changed_exports: Mapping[str, str],
    *,
    follow_references: bool,
) -> tuple[str, str] | None:
    for kind, target in references(list(values)):
        if kind == "resource" and follow_references:
            key = f"{stack}/{target}"
            if key in replaced:
                return key, f"refers to {target}, which is replaced"
        elif kind == "import" and target in changed_exports:
            source = changed_exports[target]
            return source, f"imports {json.loads(target)}, which changes with {source}"
    return None


def _chain(key: str, replaced: Mapping[str, _Cause]) -> tuple[str, ...]:
    chain = [key]
    while (via := replaced[chain[-1]].via) is not None and via in replaced and via not in chain:
        chain.append(via)
    return tuple(reversed(chain)) if len(chain) > 1 else ()


def _short(key: str, stack: str) -> str:
    return key.removeprefix(f"{stack}/")


def classify(changes: Sequence[StackChange], *, production: bool) -> Classification:
    """Every finding of one deploy of `changes` (the stacks of one environment)."""
    replaced: dict[str, _Cause] = {}
    for change in changes:
        undecided = _undecided(change)
        direct = {
            lid: cause for lid, cause in _direct_replacements(change).items() if lid in undecided
        }
        direct.update(_change_set_replacements(change))
        replaced.update({f"{change.stack}/{lid}": cause for lid, cause in direct.items()})
    changed_exports = _cascade(changes, replaced)

    findings: list[Finding] = []
    unremarkable: list[str] = []
    importers = {change.stack: _imports(change.old) | _imports(change.new) for change in changes}
    for change in changes:
        old, new = resources(change.old), resources(change.new)
        noted: set[str] = set()
        for logical_id in sorted(old.keys() & new.keys()):
            key = f"{change.stack}/{logical_id}"
            if key not in replaced:
                continue
            noted.add(logical_id)
            cause = replaced[key]
            chain = _chain(key, replaced)
            why = cause.reason
            if chain:
                why += "; chain: " + " -> ".join(_short(k, change.stack) for k in chain)
            stateful = is_stateful(old[logical_id])
            findings.append(
                Finding(
                    stack=change.stack,
                    logical_id=logical_id,
                    resource_type=new[logical_id]["Type"],
                    kind=Kind.STATEFUL_REPLACEMENT if stateful else Kind.REPLACEMENT,
                    why=why,
                    blocked=stateful,
                    chain=chain,
                )
            )
        for logical_id in sorted(old.keys() - new.keys()):
            if is_stateful(old[logical_id]):
                noted.add(logical_id)
                findings.append(_deletion(change.stack, logical_id, old[logical_id]))
        for finding in _instance_cycling(change, old, new, noted):
            noted.add(finding.logical_id)
            findings.append(finding)
        for finding in _access_widening(change, production=production):
            noted.add(finding.logical_id)
            findings.append(finding)
        findings.extend(_export_findings(change, changed_exports, importers))
        for logical_id in sorted(new.keys() - noted):
            before = old.get(logical_id)
            if before is None or _without_metadata(before) != _without_metadata(new[logical_id]):
                unremarkable.append(f"{change.stack}/{logical_id}")
    return Classification(
        findings=tuple(findings),
        unremarkable=tuple(unremarkable),
        stacks=tuple(change.stack for change in changes),
    )


def _deletion(stack: str, logical_id: str, resource: Json) -> Finding:
    policy = resource.get("DeletionPolicy", "Delete")
    if policy in KEEPING_POLICIES:
        why = f"removed from the stack; DeletionPolicy {policy} keeps it, outside any stack"
    else:
        why = "removed from the stack: CloudFormation deletes it and what it holds"
    return Finding(
        stack=stack,
        logical_id=logical_id,
        resource_type=resource["Type"],
        kind=Kind.STATEFUL_DELETION,
        why=why,
        blocked=True,
    )


def _instance_cycling(
    change: StackChange, old: Mapping[str, Json], new: Mapping[str, Json], noted: set[str]
) -> Iterator[Finding]:
    """A new launch template version, AMI, user data or instance type replaces running instances.

    Reported, never blocked: this is how a release or a patched AMI reaches the fleet, and the
    group's instance refresh keeps the capacity it serves in service while it happens.
    """
    for logical_id in sorted(old.keys() & new.keys() - noted):
        before, after = old[logical_id], new[logical_id]
        kind = after["Type"]
        before_props, after_props = before.get("Properties", {}), after.get("Properties", {})
        if kind == LAUNCH_TEMPLATE:
            before_data = before_props.get("LaunchTemplateData", {})
            after_data = after_props.get("LaunchTemplateData", {})
            changed = _changed_keys(before_data, after_data)
            groups = [
                lid
                for lid, resource in new.items()
                if resource["Type"] == AUTO_SCALING_GROUP
                and ("resource", logical_id)
                in set(references(resource.get("Properties", {}).get("LaunchTemplate")))
            ]
            who = (
                f"the instances of {', '.join(groups)}" if groups else "instances launched from it"
            )
            why = f"{', '.join(changed)} changed: a new version; {who} are replaced"
        elif kind == INSTANCE:
            changed = [p for p in INSTANCE_PROPERTIES if before_props.get(p) != after_props.get(p)]
            why = f"{', '.join(changed)} changed: the instance is stopped or replaced"
        elif kind == AUTO_SCALING_GROUP:
            changed = [
                p for p in GROUP_LAUNCH_PROPERTIES if before_props.get(p) != after_props.get(p)
            ]
            why = f"{', '.join(changed)} changed: the group replaces its instances"
        else:
            continue
        if changed:
            yield Finding(
                stack=change.stack,
                logical_id=logical_id,
                resource_type=kind,
                kind=Kind.INSTANCE_CYCLING,
                why=why,
                blocked=False,
            )


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _export_findings(
    change: StackChange, changed_exports: set[str], importers: Mapping[str, set[str]]
) -> Iterator[Finding]:
    """An export another stack imports cannot go or change: CloudFormation refuses the update
    ("Cannot delete export ... as it is in use by ..."), halfway through an environment."""
    old_exports, new_exports = _exports(change.old), _exports(change.new)
    for name, (output_id, value) in sorted(old_exports.items()):
        users = sorted(s for s, names in importers.items() if s != change.stack and name in names)
        if not users:
            continue
        export_name = json.loads(name)
        if name not in new_exports:
            kind, why = Kind.EXPORT_REMOVED, f"export {export_name} removed; imported by"
        elif name in changed_exports or _canonical(new_exports[name][1]) != _canonical(value):
            kind, why = Kind.EXPORT_CHANGED, f"export {export_name} changes value; imported by"
        else:
            continue
        yield Finding(
            stack=change.stack,
            logical_id=output_id,
            resource_type="Output",
            kind=kind,
            why=f"{why} {', '.join(users)}",
            blocked=True,
        )


# ---- access ----------------------------------------------------------------------------------
# An "atom" is one grant: (target, effect, principal, action, resource, condition), every part a
# canonical string. The stack's old atoms are compared with its new ones, so moving a statement
# between resources of the same target is no widening, and moving it to another role is.

_Atom = tuple[str, str, str, str, str, str]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_atoms(target: str, document: Any) -> Iterator[_Atom]:
    if not isinstance(document, dict):
        return
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, dict):
            continue
        effect = str(statement.get("Effect", "Allow"))
        principal = (
            "not:" + _canonical(statement["NotPrincipal"])
            if "NotPrincipal" in statement
            else _canonical(statement.get("Principal", ""))
        )
        actions = (
            ["not:" + _canonical(statement["NotAction"])]
            if "NotAction" in statement
            else [
                a if isinstance(a, str) else _canonical(a)
                for a in _as_list(statement.get("Action", []))
            ]
        )
        resources_ = (
            ["not:" + _canonical(statement["NotResource"])]
            if "NotResource" in statement
            else [
                r if isinstance(r, str) else _canonical(r)
                for r in _as_list(statement.get("Resource", "*"))
            ]
        )
        condition = _canonical(statement.get("Condition", {}))
        for action in actions:
            for resource in resources_:
                yield (target, effect, principal, action, resource, condition)


def _group_target(value: Any) -> str:
    """A security group as rules name it: by `Ref` or `Fn::GetAtt ... GroupId`, the same group."""
    if isinstance(value, dict):
        reference = value.get("Ref")
        if isinstance(reference, str):
            return "sg:" + reference
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and len(attribute) == 2 and attribute[1] == "GroupId":
            return "sg:" + str(attribute[0])
    return _canonical(value)


_PEERS = (
    "CidrIp",
    "CidrIpv6",
    "SourceSecurityGroupId",
    "DestinationSecurityGroupId",
    "SourcePrefixListId",
    "DestinationPrefixListId",
)


def _rule_atom(target: str, direction: str, rule: Mapping[str, Any]) -> _Atom:
    peer = next(
        (
            f"{name}={_group_target(rule[name]) if 'Group' in name else _canonical(rule[name])}"
            for name in _PEERS
            if name in rule
        ),
        "",
    )
    protocol = str(rule.get("IpProtocol", "-1"))
    ports = f"{rule.get('FromPort', '')}..{rule.get('ToPort', '')}"
    return (target, direction, peer, protocol, ports, "")


def access_atoms(template: Mapping[str, Any] | None) -> dict[_Atom, str]:
    """Every grant in the stack -> the logical ID of the resource that holds it."""
    atoms: dict[_Atom, str] = {}
    for logical_id, resource in resources(template).items():
        kind, props = resource["Type"], resource.get("Properties", {})
        found: list[_Atom] = []
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            targets = [
                _canonical(t) for key in ("Roles", "Users", "Groups") for t in props.get(key, [])
            ] or [f"policy:{logical_id}"]
            for target in targets:
                found += _policy_atoms(target, props.get("PolicyDocument"))
        elif kind == "AWS::IAM::Role":
            found += _policy_atoms(f"trust:{logical_id}", props.get("AssumeRolePolicyDocument"))
            for policy in props.get("Policies", []):
                found += _policy_atoms(
                    _canonical({"Ref": logical_id}), policy.get("PolicyDocument")
                )
            target = _canonical({"Ref": logical_id})
            for arn in props.get("ManagedPolicyArns", []):
                found.append((target, "Allow", "", "managed-policy", _canonical(arn), ""))
        elif kind == "AWS::KMS::Key":
            found += _policy_atoms(f"key:{logical_id}", props.get("KeyPolicy"))
        elif kind in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
            subject = props.get("Bucket", props.get("Topics", props.get("Queues")))
            found += _policy_atoms(_canonical(subject), props.get("PolicyDocument"))
        elif kind == "AWS::Lambda::Permission":
            condition = {k: props[k] for k in ("SourceArn", "SourceAccount") if k in props}
            found.append(
                (
                    _canonical(props.get("FunctionName")),
                    "Allow",
                    _canonical(props.get("Principal")),
                    str(props.get("Action")),
                    "",
                    _canonical(condition),
                )
            )
        elif kind == "AWS::EC2::SecurityGroup":
            target = f"sg:{logical_id}"
            found += [
                _rule_atom(target, "ingress", r) for r in props.get("SecurityGroupIngress", [])
            ]
            found += [_rule_atom(target, "egress", r) for r in props.get("SecurityGroupEgress", [])]
        elif kind in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            direction = "ingress" if kind.endswith("Ingress") else "egress"
            found.append(_rule_atom(_group_target(props.get("GroupId")), direction, props))
        for atom in found:
            atoms.setdefault(atom, logical_id)
    return atoms


def _matches(pattern: str, value: str) -> bool:
    return pattern == value or fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _ports(text: str) -> tuple[int, int] | None:
    low, _, high = text.partition("..")
    try:
        return int(low), int(high)
    except ValueError:
        return None


def _covers(old: _Atom, new: _Atom) -> bool:
    """Whether the old grant already allowed everything the new one does."""
    if old == new:
        return True
    if old[0] != new[0] or old[1] != new[1]:
        return False
    if new[1] in ("ingress", "egress"):
        return _rule_covers(old, new)
    if old[1] != "Allow" or old[2] != new[2] or old[5] != new[5]:
        return False
    return _matches(old[3], new[3]) and _matches(old[4], new[4])


def _rule_covers(old: _Atom, new: _Atom) -> bool:
    (_, _, old_peer, old_protocol, old_ports, _), (_, _, new_peer, new_protocol, new_ports, _) = (
        old,
        new,
    )
    if old_protocol != "-1":
        if old_protocol != new_protocol:
            return False
        before, after = _ports(old_ports), _ports(new_ports)
        if before is None or after is None:
            if old_ports != new_ports:
                return False
        elif not before[0] <= after[0] <= after[1] <= before[1]:
            return False
    if old_peer == new_peer:
        return True
    old_name, _, old_value = old_peer.partition("=")
    new_name, _, new_value = new_peer.partition("=")
    if old_name != new_name or not old_name.startswith("CidrIp"):
        return False
    try:
        old_net = ipaddress.ip_network(json.loads(old_value))
        new_net = ipaddress.ip_network(json.loads(new_value))
    except (ValueError, TypeError):
        return False
    return old_net.version == new_net.version and new_net.subnet_of(old_net)  # type: ignore[arg-type]


def _describe(atom: _Atom) -> str:
    target, effect, principal, action, resource, condition = atom
    if effect in ("ingress", "egress"):
        return f"{effect} {action} {resource or 'all ports'} {principal or 'anywhere'} on {target}"
    who = f" to {principal}" if principal else ""
    when = "" if condition == "{}" else " under a new condition"
    return f"{effect} {action} on {resource}{who}{when} ({target})"


def _access_widening(change: StackChange, *, production: bool) -> Iterator[Finding]:
    old_atoms, new_atoms = access_atoms(change.old), access_atoms(change.new)
    wider: dict[str, list[_Atom]] = {}
    for atom, logical_id in new_atoms.items():
        if atom[1] == "Deny":
            continue
        if not any(_covers(old, atom) for old in old_atoms):
            wider.setdefault(logical_id, []).append(atom)
    removed_denies = [a for a in old_atoms if a[1] == "Deny" and a not in new_atoms]
    for atom in removed_denies:
        wider.setdefault(old_atoms[atom], []).append(atom)
    new, old = resources(change.new), resources(change.old)
    for logical_id, atoms in sorted(wider.items()):
        resource = new.get(logical_id) or old[logical_id]
        shown = "; ".join(
            ("no longer " if a[1] == "Deny" else "") + _describe(a) for a in atoms[:2]
        )
        more = f" (+{len(atoms) - 2} more)" if len(atoms) > 2 else ""
        yield Finding(
            stack=change.stack,
            logical_id=logical_id,
            resource_type=resource["Type"],
            kind=Kind.ACCESS_WIDENING,
            why=f"{shown}{more}",
            blocked=production,
        )
