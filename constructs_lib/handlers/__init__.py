"""handlers"""

from constructs_lib.handlers._inline import HANDLERS, InlineCustomResource

__all__ = [
    "HANDLERS",
    "InlineCustomResource",
]
