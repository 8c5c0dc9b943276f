"""What the configuration models tell people and editors, generated from the models.

`python -m tools.config_schema` (or `make schema`) rewrites docs/config.schema.json (cdk.json's
JSON Schema, for editors) and the table of every key in docs/configuration.md; a test fails while
either differs from what the models generate.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from pathlib import Path
from typing import Any

import pydantic
from pydantic.fields import FieldInfo

from constructs_lib.config import AppConfig
from tools.generated_block import GeneratedBlock

_DOCS = Path(__file__).resolve().parents[1] / "docs"
SCHEMA_FILE = _DOCS / "config.schema.json"
REFERENCE = GeneratedBlock(
    _DOCS / "configuration.md", "<!-- config-reference: begin -->", "<!-- config-reference: end -->"
)
# What a key without a description holds, by its type.
_TYPE_NAMES: dict[Any, str] = {bool: "`true` or `false`", int: "an integer", str: "a string"}


def json_schema() -> str:
    """cdk.json's schema: its `context` is what `AppConfig` reads."""
    context = AppConfig.model_json_schema()
    cdk_json = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "properties": {"context": context},
        "$defs": context.pop("$defs"),
    }
    return json.dumps(cdk_json, indent=2) + "\n"


def reference_table() -> str:
    """A Markdown table of every key of cdk.json's `context`: its section (the path to it, an
    environment's name written `<name>`), what it allows (the description the error messages
    quote after "expected", or the section's docstring) and its default."""
    rows = [
        "| section | key | allowed values | default |",
        "|---|---|---|---|",
        *_rows(AppConfig, "(top level)", ""),
    ]
    return "\n".join(rows) + "\n"


def _rows(model: type[pydantic.BaseModel], section: str, path: str) -> list[str]:
    """`model`'s keys, then the keys of each section it holds, depth first."""
    fields = {
        str(f.alias): f for f in model.model_fields.values() if not str(f.alias).startswith("@")
    }
    rows = [
        f"| {section} | `{key}` | {_allowed(field)} | {_default(field)} |"
        for key, field in fields.items()
    ]
    for key, field in fields.items():
        if (inner := _model_of(field.annotation)) is not None:
            # The environments map holds one model per name.
            inner_path = f"{path}{key}.<name>" if key == "environments" else f"{path}{key}"
            rows += _rows(inner, f"`{inner_path}`", f"{inner_path}.")
    return rows


def _allowed(field: FieldInfo) -> str:
    inner = _model_of(field.annotation)
    text = field.description or (inner.__doc__ if inner is not None else None)
    if text is None:
        text = _TYPE_NAMES.get(_unwrapped(field.annotation), "a list")
    # One table cell: a path broken across docstring lines stays one path.
    text = re.sub(r"/\s*\n\s*", "/", inspect.cleandoc(text))
    return " ".join(text.split()).replace("|", "\\|")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        if field.default_factory_takes_validated_data:
            return "computed (below)"
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, pydantic.BaseModel):
        return "each key's default"
    return f"`{json.dumps(list(value) if isinstance(value, tuple) else value)}`"


def _unwrapped(annotation: Any) -> Any:
    """`X` of `X | None`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (annotation,) = (a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _model_of(annotation: Any) -> type[pydantic.BaseModel] | None:
    """The section a key holds, through `X | None` and `tuple[X, ...]`."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, pydantic.BaseModel):
            return candidate
    return None


if __name__ == "__main__":
    SCHEMA_FILE.write_text(json_schema())
    REFERENCE.write(reference_table())
    print(f"==> {SCHEMA_FILE.name} and the key table of {REFERENCE.path.name}")
