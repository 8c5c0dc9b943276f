"""Accepted findings of the scanners: each one a decision written once, in `decisions`.

`accept(resource, decisions.X)` applies a record where it belongs; `withheld(...)` builds an app
without some (or all) of them, for the gate and the tests that prove each one is needed.
"""

from __future__ import annotations

from constructs_lib.compliance import decisions
from constructs_lib.compliance._decision import (
    APPLIED,
    CFN_GUARD,
    IN_TEMPLATE,
    SCANNERS,
    Decision,
    accept,
    withheld,
)

__all__ = [
    "APPLIED",
    "CFN_GUARD",
    "IN_TEMPLATE",
    "SCANNERS",
    "Decision",
    "accept",
    "decisions",
    "withheld",
]
