"""The storage component: the artifact and access-log buckets; its config section is `storage`."""

from constructs_lib.storage._buckets import LOAD_BALANCER_LOGS_PREFIX, RELEASES_PREFIX, Buckets
from constructs_lib.storage._config import (
    StorageSection,
)

__all__ = [
    "LOAD_BALANCER_LOGS_PREFIX",
    "RELEASES_PREFIX",
    "Buckets",
    "StorageSection",
]
