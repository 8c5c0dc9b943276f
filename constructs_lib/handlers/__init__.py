"""The deploy-time handlers: `InlineCustomResource` and one module per Lambda handler, inlined
into the templates as text (not imported by the app)."""

from constructs_lib.handlers._inline import HANDLERS, InlineCustomResource

__all__ = [
    "HANDLERS",
    "InlineCustomResource",
]
