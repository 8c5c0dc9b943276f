"""One environment in a small literal cdk.json context, for the tests of each component's section.

A test sets its section's values on `environment(...)` and reads what `AppConfig.from_context`
reports, as the user sees it: the path, the value, what is allowed. Each of the three placements is
valid as it stands: `dev` (two AZs, one instance: autoshift stays off), `prod` (three AZs, an
instance and a NAT gateway per AZ, a domain: what autoshift and HTTPS ask of it) and `local`
(emulator-only). The rules between environments are tests/test_config.py's.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from constructs_lib.config import AppConfig, ConfigError, EnvironmentConfig
from constructs_lib.core import EMULATOR_ACCOUNT, Placement, Problem

Context = dict[str, Any]

# A key set to OMITTED is left out of its section.
OMITTED: Any = object()
AMI_ID = "ami-0453ec754f44f9a4a"
_AZS = ["us-east-1a", "us-east-1b", "us-east-1c"]
_ENVIRONMENTS: dict[str, Context] = {
    "dev": {
        "account": "111111111111",
        "region": "us-east-1",
        "availabilityZones": _AZS[:2],
        "network": {"vpcCidr": "10.10.0.0/16", "natGateways": 1},
        "fleet": {"instanceType": "t3.small", "amiId": AMI_ID, "minCapacity": 1, "maxCapacity": 3},
    },
    "prod": {
        "account": "333333333333",
        "region": "us-east-1",
        "availabilityZones": _AZS,
        "network": {"vpcCidr": "10.30.0.0/16", "natGateways": 3},
        "edge": {
            "domain": {
                "name": "app.example.com",
                "hostedZoneId": "Z000000000000EXAMPLE3",
                "hostedZoneName": "example.com",
            }
        },
        "fleet": {"instanceType": "m7i.large", "amiId": AMI_ID, "minCapacity": 3, "maxCapacity": 9},
    },
    "local": {
        "emulator": True,
        "account": EMULATOR_ACCOUNT,
        "region": "us-east-1",
        "availabilityZones": _AZS,
        "network": {"vpcCidr": "10.99.0.0/16", "natGateways": 0},
        "fleet": {"instanceType": "t3.small", "amiId": AMI_ID, "minCapacity": 1, "maxCapacity": 3},
    },
}


def certificate_arn(account: str, region: str = "us-east-1") -> str:
    return f"arn:aws:acm:{region}:{account}:certificate/00000000-0000-4000-8000-000000000001"


def environment(name: str = "dev", **values: Any) -> Context:
    """The context of one environment, `name`, with `values` set on it: a placement key
    (`region=...`) replaces its value, a section (`network={...}`) is merged key by key into the
    literal one, and a key set to OMITTED is left out."""
    settings = copy.deepcopy(_ENVIRONMENTS[name])
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key].update(value)
        else:
            settings[key] = value
    settings = {k: _omit(v) for k, v in settings.items() if v is not OMITTED}
    return {
        "project": "webapp",
        "owner": "team",
        "costCenter": "cc-1",
        "environments": {name: settings},
    }


def _omit(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _omit(v) for k, v in value.items() if v is not OMITTED}
    return value


def parsed(context: Context) -> EnvironmentConfig:
    """The context's one environment, as the constructs get it."""
    (only,) = AppConfig.from_context(context).environments
    return only


def placement(name: str = "dev") -> Placement:
    """Where the literal environment `name` is deployed, for a section's rules called directly."""
    return parsed(environment(name)).placement


def problems(context: Context) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        AppConfig.from_context(context)
    return caught.value.problems


def only_problem(context: Context) -> Problem:
    """The single problem of a context with one bad value; a cascade of errors would hide it."""
    found = problems(context)
    assert len(found) == 1, found
    return found[0]


def problem_at(context: Context, path: str) -> Problem:
    """The problem reported at `path`, for bad values that also upset a dependent rule."""
    found = problems(context)
    at_path = [p for p in found if p.path == path]
    assert len(at_path) == 1, found
    return at_path[0]
