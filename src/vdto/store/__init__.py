"""The event store (one DuckDB file) and the repositories that own the SQL of its tables."""

from vdto.store.db import (
    DEFAULT_DB,
    DEFAULT_NAMESPACE,
    SCHEMA_VERSION,
    ImportRecord,
    Store,
    check_namespace,
    default_db_path,
)

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_NAMESPACE",
    "SCHEMA_VERSION",
    "ImportRecord",
    "Store",
    "check_namespace",
    "default_db_path",
]
