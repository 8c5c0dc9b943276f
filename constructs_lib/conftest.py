"""The components' own tests (`constructs_lib/<component>/tests/`) run without the app's session.

Nothing here builds the app: each test builds the construct it checks in a bare stack
(`constructs_lib.core.testing`), so one file runs alone in seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

_NODE = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "node"
if _NODE.exists():
    # jsii runs on the pinned Node 22 even when pytest is started outside `make`, as in
    # tests/conftest.py; set before any test module imports aws_cdk.
    os.environ.setdefault("JSII_NODE", str(_NODE))
