"""The event store (one DuckDB file) and the repositories that own the SQL of its tables.

``Store(path)`` opens the file; ``store.events``, ``store.imports``, ``store.counts``,
``store.registry_edits``, ``store.rounds``, ``store.network``, ``store.tokens``,
``store.audit`` and ``store.persons`` are the repositories, one per group of tables. Nothing outside this package
writes SQL against the store's tables.
"""

from vdto.store.db import DEFAULT_DB, SCHEMA_VERSION, Store, default_db_path
from vdto.store.imports import ImportRecord
from vdto.store.rounds import Round

__all__ = ["DEFAULT_DB", "SCHEMA_VERSION", "ImportRecord", "Round", "Store", "default_db_path"]
