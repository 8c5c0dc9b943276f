"""storage"""

from constructs_lib.storage._buckets import LOAD_BALANCER_LOGS_PREFIX, RELEASES_PREFIX, Buckets

__all__ = [
    "LOAD_BALANCER_LOGS_PREFIX",
    "RELEASES_PREFIX",
    "Buckets",
]
