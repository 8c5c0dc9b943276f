"""Which blocked changes a commit says yes to: one committed file, each entry one exact change.

`change-acknowledgments.json` at the repository root:

    {"acknowledgments": [
      {"stack": "prod-webapp-compute", "logicalId": "InstanceLogGroupB49DDDE8",
       "change": "stateful-replacement", "reason": "why losing it is fine, checkable by a reviewer"}
    ]}

An entry matches a finding by stack, logical ID and change kind, nothing looser: acknowledging a
log group's replacement does not also let its deletion through. An entry for a stack of this run
that matches no finding is stale (the change is deployed, or no longer made) and is an error, so
the file is pruned instead of quietly letting a later, different change through.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.change_safety.classify import Classification, Finding, Kind
from tools.context import ROOT

DEFAULT_FILE = ROOT / "change-acknowledgments.json"
# Long enough that "ok" or "fine" does not pass for a reason.
MIN_REASON = 20


@dataclass(frozen=True)
class Acknowledgment:
    stack: str
    logical_id: str
    change: Kind
    reason: str

    def matches(self, finding: Finding) -> bool:
        return (self.stack, self.logical_id, self.change) == (
            finding.stack,
            finding.logical_id,
            finding.kind,
        )


class AcknowledgmentError(ValueError):
    pass


def parse(document: Any, *, source: str = "acknowledgments") -> tuple[Acknowledgment, ...]:
    """Every entry, or one error listing every malformed entry."""
    entries = document.get("acknowledgments") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise AcknowledgmentError(f'{source}: expected {{"acknowledgments": [...]}}')
    found: list[Acknowledgment] = []
    problems: list[str] = []
    kinds = ", ".join(kind.value for kind in Kind)
    for index, entry in enumerate(entries):
        where = f"{source}[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"stack", "logicalId", "change", "reason"}:
            problems.append(f"{where}: expected exactly stack, logicalId, change, reason")
            continue
        if entry["change"] not in {kind.value for kind in Kind}:
            problems.append(f"{where}: change {entry['change']!r} is not one of {kinds}")
            continue
        if not isinstance(entry["reason"], str) or len(entry["reason"].strip()) < MIN_REASON:
            problems.append(f"{where}: reason must say why, in {MIN_REASON} characters or more")
            continue
        found.append(
            Acknowledgment(
                stack=str(entry["stack"]),
                logical_id=str(entry["logicalId"]),
                change=Kind(entry["change"]),
                reason=entry["reason"].strip(),
            )
        )
    if problems:
        raise AcknowledgmentError("\n".join(problems))
    return tuple(found)


def load(path: Path = DEFAULT_FILE) -> tuple[Acknowledgment, ...]:
    if not path.is_file():
        return ()
    return parse(json.loads(path.read_text()), source=path.name)


@dataclass(frozen=True)
class Verdict:
    classification: Classification
    acknowledged: tuple[tuple[Finding, Acknowledgment], ...]
    # Blocked and not acknowledged: the deploy must not go ahead.
    refused: tuple[Finding, ...]
    stale: tuple[Acknowledgment, ...]

    @property
    def exit_code(self) -> int:
        return 1 if self.refused or self.stale else 0


def judge(classification: Classification, acknowledgments: Iterable[Acknowledgment]) -> Verdict:
    """Apply the acknowledgments of the stacks in this classification; others are not judged."""
    in_scope = [a for a in acknowledgments if a.stack in classification.stacks]
    acknowledged: list[tuple[Finding, Acknowledgment]] = []
    refused: list[Finding] = []
    for finding in classification.findings:
        match = next((a for a in in_scope if a.matches(finding)), None)
        if match is not None:
            acknowledged.append((finding, match))
        elif finding.blocked:
            refused.append(finding)
    used = {id(a) for _, a in acknowledged}
    return Verdict(
        classification=classification,
        acknowledged=tuple(acknowledged),
        refused=tuple(refused),
        stale=tuple(a for a in in_scope if id(a) not in used),
    )


def risk(finding: Finding, verdict: Verdict) -> str:
    if any(f is finding for f, _ in verdict.acknowledged):
        return "acknowledged"
    return "BLOCKED" if finding.blocked else "review"


def render(verdict: Verdict) -> str:
    """The short table a person reads: resource, change, risk, why; then what decides the exit."""
    findings: Sequence[Finding] = verdict.classification.findings
    lines: list[str] = []
    if not findings:
        lines.append("No stateful replacement or deletion, export change, widening or cycling.")
    else:
        rows = [
            (f"{f.stack}/{f.logical_id}", f.kind.value, risk(f, verdict), f.why) for f in findings
        ]
        rows.sort(key=lambda r: ({"BLOCKED": 0, "acknowledged": 1}.get(r[2], 2), r[0]))
        headers = ("resource", "change", "risk", "why")
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:3])]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
        lines.append(fmt.format(*headers))
        lines += [fmt.format(*row) for row in rows]
    others = len(verdict.classification.unremarkable)
    if others:
        lines.append(f"{others} other resource(s) added or updated in place: nothing to review.")
    for finding, acknowledgment in verdict.acknowledged:
        lines.append(
            f"acknowledged: {finding.stack}/{finding.logical_id} {finding.kind.value}: "
            f"{acknowledgment.reason}"
        )
    for stale in verdict.stale:
        lines.append(
            f"STALE acknowledgment (matches no change; remove it): {stale.stack}/"
            f"{stale.logical_id} {stale.change.value}"
        )
    if verdict.refused:
        lines.append(
            f"{len(verdict.refused)} blocked change(s). Acknowledge each in "
            "change-acknowledgments.json (stack, logicalId, change, reason) or change the code."
        )
    return "\n".join(lines)
