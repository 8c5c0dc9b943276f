"""The JSON Schema of cdk.json for editors, generated from the configuration models.

`python -m tools.config_schema` (or `make schema`) rewrites docs/config.schema.json; a test
fails while the committed file differs from what the models generate.
"""

from __future__ import annotations

import json
from pathlib import Path

from constructs_lib.config import AppConfig

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "config.schema.json"


def json_schema() -> str:
    """cdk.json's schema: its `context` is what `AppConfig` reads."""
    context = AppConfig.model_json_schema()
    cdk_json = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "properties": {"context": context},
        "$defs": context.pop("$defs"),
    }
    return json.dumps(cdk_json, indent=2) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(json_schema())
