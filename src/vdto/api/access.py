"""How the server reaches the store: short-lived connections behind one readers-writer lock.

DuckDB lets one process write a database file, and inside that process every connection to the
file must be opened with the same settings. The library opens stores itself (an import opens the
store read-only to read the registry, then for writing), so the server never keeps a connection
open between requests: each read opens the store and closes it again. A process-wide
readers-writer lock keeps reads (many at once, read-only) and writes (one at a time, nothing else
open) apart. Between requests no connection is open, so ``vdto`` commands can use the same file;
while one of them holds it, the server answers 503 (try again) instead of waiting.

Opening a DuckDB file costs tens of milliseconds when no connection to it is open (the database
is started and its catalog read), and under a millisecond while another one is. A request that
reads the store more than once (its token, then its answer) can therefore hold it
(:meth:`StoreAccess.held`): while any request holds it, one read-only connection stays open and
every read opens cheaply next to it; when the last holding request ends, that connection is
closed (before the answer is sent), and a write closes it first, so the rules above still hold.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vdto.errors import VdtoError
from vdto.store import Store


class StoreBusy(Exception):
    """The store cannot be opened now (another process holds it); the client should retry."""


class RWLock:
    """A readers-writer lock that prefers writers (a stream of reads cannot starve a write)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _open(path: Path, read_only: bool) -> Store:
    try:
        return Store(path, read_only=read_only)
    except VdtoError as exc:
        if "cannot open the store" in exc.what:
            raise StoreBusy(
                "the store is in use by another process; try again shortly"
            ) from None  # the message names no server path
        raise


class StoreAccess:
    """Open the store at ``path`` for one request at a time (see the module docstring).

    Parameters
    ----------
    path
        The DuckDB file; created with the vdto schema on first use.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._wal = self.path.with_name(self.path.name + ".wal")
        self.lock = RWLock()
        self.generation = 0  # counts the writes this process made (cache keys)
        self._ready = False
        self._ready_lock = threading.Lock()
        self._holds = 0  # requests holding the store open (see held)
        self._keeper: Store | None = None  # the read-only connection kept while held
        self._keep_lock = threading.Lock()

    def ensure(self) -> None:
        """Create the store (or add the API tables to an older one) once, before the first read."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with self.lock.write():
                _open(self.path, False).close()
            self._ready = True

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the store open (read-only, between this block's reads) until the block ends.

        For a request that reads more than once; nothing is opened until the first read, and
        the connection kept is closed when the last holder leaves or a write begins.
        """
        with self._keep_lock:
            self._holds += 1
        try:
            yield
        finally:
            with self._keep_lock:
                self._holds -= 1
                if not self._holds:
                    self._drop()

    def _keep(self) -> None:
        """Open the kept connection if a request holds the store (called under the read lock)."""
        with self._keep_lock:
            if self._holds and self._keeper is None:
                self._keeper = _open(self.path, True)

    def _drop(self) -> None:
        """Close the kept connection, if any (called with ``_keep_lock`` held)."""
        if self._keeper is not None:
            keeper, self._keeper = self._keeper, None
            keeper.close()

    def _release(self) -> None:
        """Before a write: nothing read-only may stay open in this process."""
        with self._keep_lock:
            self._drop()

    @contextmanager
    def read(self) -> Iterator[Store]:
        """A read-only store, shared with other readers."""
        self.ensure()
        with self.lock.read():
            self._keep()
            store = _open(self.path, True)
            try:
                yield store
            finally:
                store.close()

    @contextmanager
    def write(self) -> Iterator[Store]:
        """A writable store; nothing else in this process holds the file meanwhile."""
        self.ensure()
        with self.lock.write():
            self._release()
            store = _open(self.path, False)
            try:
                yield store
            finally:
                store.close()
                self.generation += 1

    @contextmanager
    def exclusive(self) -> Iterator[Path]:
        """Hold the write lock without opening the store (for library calls that open it themselves)."""
        self.ensure()
        with self.lock.write():
            self._release()
            try:
                yield self.path
            finally:
                self.generation += 1

    def version(self) -> tuple:
        """Changes whenever the store file changes (this process or another): a cache key."""
        return (self.generation, file_version(self.path), file_version(self._wal))


class Cache:
    """Values computed from the store, kept until the store (or another file) changes."""

    def __init__(self, size: int = 256) -> None:
        self._values: OrderedDict[Any, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key: Any, version: Any) -> Any | None:
        with self._lock:
            hit = self._values.get(key)
            if hit is not None:
                self._values.move_to_end(key)
        return hit[1] if hit is not None and hit[0] == version else None

    def put(self, key: Any, version: Any, value: Any) -> Any:
        """Keep ``value``; past ``size`` values the least recently used goes (a client asking for
        ever new keys cannot push the public scorecard out)."""
        with self._lock:
            self._values[key] = (version, value)
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def get_or_compute(self, key: Any, version: Any, compute: Callable[[], Any]) -> Any:
        hit = self.get(key, version)
        return hit if hit is not None else self.put(key, version, compute())


def file_version(path: Path | None) -> tuple | None:
    """A cache key for a file: (mtime, size, inode), or None when it does not exist."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
