"""What every component's config section is built from, and how a problem in one is reported.

A section is a frozen, strict pydantic model whose keys are cdk.json's (camelCase). pydantic checks
each value; a section's `problems(placement)` checks the rules between its values and the
environment it is placed in. `constructs_lib/config.py` composes the sections and reports every
problem at once as `path = value: what is allowed`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

PRODUCTION = "prod"
# moto's one account: an environment declared `emulator: true` must name it, so that the switches
# only the emulator needs can never reach a real account.
EMULATOR_ACCOUNT = "123456789012"
# RFC 1035 names as Route 53 and ACM take them (lower case, no trailing dot, no wildcard); a letter
# first in the last label tells a name from an IP address.
_DNS_NAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


def check(test: Callable[[Any], object], allowed: str) -> AfterValidator:
    """A rule pydantic has no keyword for, and what the report says when a value breaks it."""

    def validate(value: Any) -> Any:
        if not test(value):
            raise ValueError(allowed)
        return value

    return AfterValidator(validate)


def text(pattern: str, description: str, default: Any = ...) -> Any:
    """A text field; its description is the editor's hint and, after "expected", the report's."""
    return Field(default, pattern=pattern, description=description)


DnsName = Annotated[
    str,
    check(
        lambda name: len(name) <= 253 and _DNS_NAME.fullmatch(name),
        "expected a lower-case DNS name such as app.example.com: labels of 1 to 63 letters, "
        "digits and inner hyphens, 253 characters in all, no trailing dot and no wildcard",
    ),
]
EMAIL = r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$"
Port = Annotated[
    int,
    Field(ge=1, le=65535, description="a TCP port from 1 to 65535"),
    check(lambda port: port != 22, "port 22 is not allowed (SSH: use SSM Session Manager)"),
]
Account = Annotated[str, text(r"^\d{12}$", "12 digits")]
Region = Annotated[
    str, text(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$", "a region such as us-east-1")
]


class Section(pydantic.BaseModel):
    """A config section: strict (a capacity of "2" or `true`, or a switch of "false", is a
    mistake to report), frozen, and a key it does not know is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, alias_generator=to_camel)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        optional = {f.alias for f in cls.model_fields.values() if not f.is_required()}
        return {k: v for k, v in data.items() if v is not None or k not in optional}

    @classmethod
    def defaults(cls) -> Any:
        """The section as an environment that leaves it out gets it."""
        return Field(default_factory=lambda: cls.model_validate({}), description=cls.__doc__)


@dataclass(frozen=True)
class Placement:
    """Where a section is deployed: what its rules may read besides its own values."""

    name: str
    account: str
    region: str
    availability_zones: tuple[str, ...]
    emulator: bool

    @property
    def is_production(self) -> bool:
        return self.name == PRODUCTION

    @property
    def path(self) -> str:
        return f"environments.{self.name}"


@dataclass(frozen=True)
class Problem:
    path: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"{self.path} = {_as_written(self.value)}: {self.allowed}"


def _as_written(value: object) -> str:
    """The value as cdk.json spells it (`null`, `true`, `"dev"`), not as Python prints it."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return repr(value)


Problems = Iterator[Problem]


def emulator_switch(placement: Placement, path: str, on: bool, cost: str) -> Problems:
    """A protection that only an emulator-only environment may switch off (Lambda cannot run
    there); `cost` says what switching it off costs in a real account."""
    if not on and not placement.emulator:
        allowed = "may be false only in an environment declared emulator-only "
        allowed += f"(emulator: true), where Lambda cannot run; here {cost}"
        yield Problem(path, False, allowed)


class ConfigError(Exception):
    """Every problem found in the configuration, reported at once."""

    heading = "Invalid configuration in cdk.json context"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"{self.heading} ({len(self.problems)} problem(s)):"]
        return "\n".join(lines + [f"  - {p}" for p in self.problems])


class ContextCacheError(ConfigError):
    """Values the app reads from CDK's context cache (cdk.context.json) that it does not hold."""

    heading = "Missing from cdk.context.json; synth does not call AWS to fill it"
