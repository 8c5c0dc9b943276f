"""Which properties replace a resource when they change, from the CloudFormation resource schemas.

cfn-lint ships the registry schemas of every region (`providers/<region>.json` maps a type to a
file under `resources/`), pinned by uv.lock, so a prediction needs no network and changes only
when the lock does. A schema's `createOnlyProperties` are JSON pointers such as
`/properties/CidrBlock`: a change to one makes CloudFormation create a new resource and delete
the old one. The schemas do not list conditional replacements (a change set's `Conditional`);
against an account, the change set's own answer replaces this prediction (classify.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import cfnlint

SCHEMAS = Path(cfnlint.__file__).resolve().parent / "data" / "schemas"
DEFAULT_REGION = "us-east-1"


@cache
def _provider(region: str) -> dict[str, str]:
    path = SCHEMAS / "providers" / f"{region}.json"
    if not path.is_file():
        path = SCHEMAS / "providers" / f"{DEFAULT_REGION}.json"
    mapping: dict[str, str] = json.loads(path.read_text())
    return mapping


@cache
def create_only_properties(resource_type: str, region: str = DEFAULT_REGION) -> tuple[str, ...]:
    """The create-only pointers of `resource_type`, each as its path below `Properties`.

    `/properties/DnsOptions/PrivateDnsPreference` -> `DnsOptions/PrivateDnsPreference` (`*` stands
    for every item of a list). Custom resources and types the schemas do not know have none.
    """
    schema_file = _provider(region).get(resource_type)
    if schema_file is None:
        return ()
    schema = json.loads((SCHEMAS / "resources" / f"{schema_file}.json").read_text())
    pointers: list[str] = schema.get("createOnlyProperties", [])
    prefix = "/properties/"
    return tuple(p.removeprefix(prefix) for p in pointers if p.startswith(prefix))
