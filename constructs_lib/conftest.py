"""What every component's tests share: jsii on the pinned Node.js 22, as in tests/conftest.py.

Runs before any component package is imported (each imports aws_cdk, which starts jsii), so a
component's tests started outside `make`, e.g. `pytest constructs_lib/handlers`, never fall back
to an end-of-life system Node.
"""

from __future__ import annotations

import os
from pathlib import Path

_NODE = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "node"
if _NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_NODE))
