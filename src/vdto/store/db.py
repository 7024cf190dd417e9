"""The event store: one DuckDB file, its schema, its transactions and its repositories.

Every write goes through :meth:`Store.transaction`: all rows land or none do. The SQL of each
table lives in one repository (``store.events``, ``store.rounds``, ...), so the rest of vdto asks
the store questions instead of writing queries. The default file is ``vdto.duckdb`` in the
working directory; the ``VDTO_DB`` environment variable chooses another.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Generic, TypeVar, overload

import duckdb
import pandas as pd

from vdto.errors import VdtoError
from vdto.names import DEFAULT_AGENCY, check_agency
from vdto.orgs import Registry
from vdto.store import audit, counts, events, imports, network, persons, registry, rounds, tokens

try:
    import fcntl
except ImportError:  # not on POSIX (Windows): no advisory lock
    fcntl = None  # type: ignore[assignment]

R = TypeVar("R")

#: Version 3 renamed the ``namespace`` column to ``agency``; version 4 records each import's
#: options (``imports.options``) and when each API token expires (``api_tokens.expires_at``).
#: version 5 keeps every version of an event (revisions and retirements, ``event_history``) and
#: each event's revision stamp. Older stores are migrated in place when opened for writing.
SCHEMA_VERSION = "5"
DEFAULT_DB = "vdto.duckdb"

_DDL = "\n".join(
    [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);",
        imports.DDL,
        events.DDL,
        events.HISTORY_DDL,
        counts.DDL,
        registry.DDL,
        rounds.DDL,
        network.DDL,
        tokens.DDL,
        audit.DDL,
        persons.DDL,
    ]
)

#: Version 2 -> 3: one word, agency, for whose data a row is.
_MIGRATE_2_TO_3 = """
ALTER TABLE events RENAME COLUMN namespace TO agency;
ALTER TABLE perpetrators RENAME COLUMN namespace TO agency;
ALTER TABLE imports RENAME COLUMN namespace TO agency;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
"""

#: Version 3 -> 4: the options an import was run with (JSON), e.g. a widened date range; and
#: token expiry (tokens made before it expire 90 days after the migration).
_MIGRATE_3_TO_4 = """
ALTER TABLE imports ADD COLUMN IF NOT EXISTS options VARCHAR;
ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS expires_at TIMESTAMP;
UPDATE api_tokens SET expires_at = CAST(now() AS TIMESTAMP) + INTERVAL 90 DAY
  WHERE expires_at IS NULL AND revoked_at IS NULL;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
"""


#: Version 4 -> 5: the source's revision stamp of each event, and what each import revised and
#: retired (the history tables themselves are created with the schema).
_MIGRATE_4_TO_5 = """
ALTER TABLE events ADD COLUMN IF NOT EXISTS revision DOUBLE;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_revised BIGINT;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_retired BIGINT;
UPDATE meta SET value = '5' WHERE key = 'schema_version';
"""


class _Repository(Generic[R]):
    """A store's repository of one kind, made on first use and kept (a typed cached attribute)."""

    def __init__(self, kind: Callable[[Store], R]) -> None:
        self.kind = kind

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, store: None, owner: type) -> _Repository[R]: ...

    @overload
    def __get__(self, store: Store, owner: type) -> R: ...

    def __get__(self, store: Store | None, owner: type) -> R | _Repository[R]:
        if store is None:
            return self
        repo = store.__dict__.get(self.name)
        if repo is None:
            repo = store.__dict__[self.name] = self.kind(store)
        return repo


@contextmanager
def _folder_lock(folder: Path, *, exclusive: bool) -> Iterator[None]:
    """An advisory lock on the store's folder (``flock`` on the folder itself, so no lock file
    appears beside the store): :meth:`Store.compact` holds it exclusively while it swaps the
    file, and :class:`Store` shared while it connects, so an opener waits for the swap instead of
    opening the old file between the close and the reconnect. Skipped where ``fcntl`` is not
    available or the folder cannot be opened (the connect then says what is wrong)."""
    fd = -1
    if fcntl is not None:
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            fd = -1
    try:
        if fd >= 0:
            with suppress(OSError):  # a file system without flock (some network mounts)
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        if fd >= 0:
            os.close(fd)  # releases the lock


def _real_folder(path: Path) -> Path:
    """The folder of the file ``path`` is or links to (where :meth:`Store.compact` swaps it)."""
    try:
        return path.resolve().parent
    except (OSError, RuntimeError):  # a symbolic link loop: the connect says what is wrong
        return path.absolute().parent


def _quoted(name: str) -> str:
    """A SQL identifier in double quotes (any ``"`` in it doubled)."""
    return '"' + name.replace('"', '""') + '"'


def default_db_path() -> Path:
    """``$VDTO_DB`` if set, else ``vdto.duckdb`` in the working directory."""
    return Path(os.environ.get("VDTO_DB") or DEFAULT_DB)


class Store:
    """A vdto event store (a DuckDB file).

    Parameters
    ----------
    path
        The DuckDB file; created with the vdto schema if it does not exist.
    read_only
        Open without write access (the file must exist).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "x.duckdb") as store:
    ...     store.count("events"), store.events.agencies()
    (0, [])
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if read_only and not self.path.exists():
            raise VdtoError(
                f"no store at {self.path}", "", "import data first, or give the path of an existing store"
            )
        new = not self.path.exists()
        try:
            with _folder_lock(_real_folder(self.path), exclusive=False):  # waits for a compaction's swap
                self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise VdtoError(
                f"cannot open the store ({str(exc).splitlines()[0]})",
                str(self.path),
                "check that it is a vdto DuckDB file and not in use by another process",
            ) from None
        if new and not read_only:
            # token hashes, audit rows and event notes: readable by the owner only
            os.chmod(self.path, 0o600)
        if not read_only:
            if self._version() == "2":
                self.con.execute(_MIGRATE_2_TO_3)
            if self._version() == "3":
                self.con.execute(_MIGRATE_3_TO_4)
            if self._version() == "4":
                self.con.execute(_MIGRATE_4_TO_5)
            self.con.execute(_DDL)
            self.con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        self._check_version()

    def _version(self) -> str | None:
        try:
            found = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        except duckdb.Error:
            found = []
        return found[0][0] if found else None

    def _check_version(self) -> None:
        version = self._version()
        if version != SCHEMA_VERSION:
            self.con.close()
            fix = (
                "open it once for writing (any import) to migrate it"
                if version in ("2", "3", "4")
                else "import the data again into a new store"
            )
            raise VdtoError(
                f"store schema version {version} is not the version this vdto uses ({SCHEMA_VERSION})",
                str(self.path),
                fix,
            )

    # -- repositories: each owns the SQL of its tables (made on first use, one per store) ----
    events = _Repository(events.EventRepository)
    imports = _Repository(imports.ImportRepository)
    counts = _Repository(counts.CountRepository)
    registry_edits = _Repository(registry.RegistryRepository)
    rounds = _Repository(rounds.RoundRepository)
    network = _Repository(network.NetworkRepository)
    tokens = _Repository(tokens.TokenRepository)
    audit = _Repository(audit.AuditRepository)
    persons = _Repository(persons.PersonRepository)

    # -- the connection --------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All statements inside commit together, or roll back on any exception."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def compact(self) -> None:
        """Rewrite the file with only its live rows, so that nothing deleted stays in freed blocks.

        DuckDB marks a deleted row's space free but does not blank it, so a deleted value may stay
        in the file's bytes until the space is reused. This copies the database into a new file
        (``COPY FROM DATABASE``), which holds only what is live, and moves it into place. The store
        must be open for writing; it is open again afterwards.

        The copy is written in a private folder (mode 0700) beside the file and moved over the
        file a symbolic link points to (the link stays). It keeps the file's permission bits
        where they are 0600 or stricter, and is 0600 otherwise: never looser than before. The swap
        (close, replace, reconnect) holds an exclusive advisory lock on the folder that every
        :class:`Store` takes shared while it connects, so another vdto process opening the store
        meanwhile waits and then opens the compacted file.
        """
        target = self.path.resolve()
        bits = stat.S_IMODE(target.stat().st_mode)
        mode = bits if not bits & ~0o600 else 0o600
        catalog = self._catalog()
        alias = "vdto_compacted" if catalog != "vdto_compacted" else "vdto_compacted_2"
        self.con.execute("CHECKPOINT")
        folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".compact", dir=target.parent))
        try:
            tmp = folder / target.name  # DuckDB makes the file itself
            self.con.execute(f"ATTACH ? AS {alias}", [str(tmp)])
            try:
                self.con.execute(f"COPY FROM DATABASE {_quoted(catalog)} TO {alias}")
            finally:
                self.con.execute(f"DETACH {alias}")
            os.chmod(tmp, mode)
            with _folder_lock(target.parent, exclusive=True):
                self.con.close()
                try:
                    os.replace(tmp, target)
                    for wal in {Path(f"{self.path}.wal"), Path(f"{target}.wal")}:
                        wal.unlink(missing_ok=True)  # the old file's (empty after the checkpoint)
                finally:
                    self._reconnect()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _reconnect(self) -> None:
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise VdtoError(
                f"cannot open the store again after compacting it ({str(exc).splitlines()[0]})",
                str(self.path),
                "open it again; if that fails too, restore it from a backup",
            ) from None
        finally:
            # the repositories hold the old connection: they are made again on next use
            for name in [n for n, v in vars(Store).items() if isinstance(v, _Repository)]:
                self.__dict__.pop(name, None)

    def _catalog(self) -> str:
        row = self.con.execute("SELECT current_database()").fetchone()
        assert row is not None
        return str(row[0])

    def count(self, table: str) -> int:
        """Rows in one of the store's tables."""
        if table not in _TABLES:
            raise ValueError(f"unknown table {table!r}")
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run read-only SQL over the store (for analysts exploring it from Python)."""
        return self.con.execute(sql, params or []).df()

    # -- conveniences used everywhere ------------------------------------------------------
    def agencies(self) -> list[str]:
        """The agencies that hold events in this store."""
        return self.events.agencies()

    def resolve_agency(self, agency: str | None) -> str:
        """The one rule for whose data a command works on: ``agency`` if given; the only agency in
        the store if not (``default`` in an empty store); with several, an error naming them, since
        two agencies' copies of the same incidents are never added together."""
        if agency is not None:
            return check_agency(agency)
        names = self.agencies()
        if len(names) == 1:
            return names[0]
        if not names:
            return DEFAULT_AGENCY
        raise VdtoError(
            f"the store holds the data of several agencies ({', '.join(names)})",
            str(self.path),
            "pick one with {agency} NAME (agencies are never added together)",
            mentions=("agency",),
        )

    def registry(self, base: Registry | None = None) -> Registry:
        """The seed registry (or ``base``) with the organizations and aliases users added here,
        and the organizations rounds dismantled."""
        return self.registry_edits.registry(base)


_TABLES = frozenset(
    {
        "meta", "imports", "events", "perpetrators", "event_history", "perpetrator_history", "region_counts", "user_orgs", "user_aliases", "rounds",
        "round_history", "dissents", "dismantled", "network_nodes", "network_edges", "network_meta",
        "api_tokens", "api_audit", "api_signoffs", *persons.TABLES,
    }
)  # fmt: skip
