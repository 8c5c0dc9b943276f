"""The `pipeline` section: where the self-mutating pipeline lives, what it watches, where it
deploys and in what order."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from constructs_lib.core import PRODUCTION, Account, Region, Section, text


def _waves(items: Any) -> Any:
    """`["dev", ["staging", "qa"], "prod"]`: a lone name is a wave of one."""
    # Counted here, not by min_length: pydantic would count only the items that validated.
    if not isinstance(items, list) or not items:
        raise ValueError("expected a list of environments (or of lists deployed together)")
    if not all(isinstance(i, str | list) for i in items):
        raise ValueError("expected environment names, or lists of them deployed together")
    return tuple((i,) if isinstance(i, str) else tuple(i) for i in items)


class PipelineWaves(Section):
    """Where the pipeline deploys and in what order: what the rules between values read of it,
    so that they run even while another pipeline key is malformed."""

    model_config = ConfigDict(extra="ignore")

    # Waves in order; the environments of one wave deploy in parallel.
    waves: Annotated[
        tuple[tuple[str, ...], ...],
        BeforeValidator(_waves, json_schema_input_type=list[str | list[str]]),
    ] = Field(
        alias="environments",
        description="the environments the pipeline deploys, in order; a list inside the list is a "
        "wave deployed in parallel",
    )
    manual_approval: tuple[str, ...] = Field(
        description="environments whose deploy waits for a person's approval; default: prod",
        strict=False,
        default_factory=lambda data: (PRODUCTION,) * any(PRODUCTION in w for w in data["waves"]),
    )


class PipelineSection(PipelineWaves):
    """The delivery pipeline: where it lives, what it watches, where it deploys, in what order."""

    model_config = ConfigDict(extra="forbid")

    account: Account
    region: Region
    repository: str = text(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", "owner/name of the repository")
    branch: str = text(r"\S", "a non-empty string")
    connection_arn: str = text(
        r"^arn:aws[a-z-]*:(?:codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$",
        "a CodeConnections (or CodeStar connections) connection ARN",
    )
