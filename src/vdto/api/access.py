"""How the server reaches the store: short-lived connections behind one readers-writer lock.

DuckDB lets one process write a database file, and inside that process every connection to the
file must be opened with the same settings. The library opens stores itself (an import opens the
store read-only to read the registry, then for writing), so the server keeps no connection open
for long: each read opens the store and closes it again. A process-wide readers-writer lock keeps
reads (many at once, read-only) and writes (one at a time, nothing else open) apart. While the
server is idle no connection is open, so ``vdto`` commands can use the same file; while one of
them holds it, the server answers 503 (try again) instead of waiting.

Opening a DuckDB file costs tens of milliseconds when no connection to it is open (the database
is started and its catalog read), and under a millisecond while another one is. A request that
reads the store more than once (its token, then its answer) can therefore hold it
(:meth:`StoreAccess.holding`, or :meth:`StoreAccess.held` outside the event loop): while any
request holds it, one read-only connection stays open and every read opens cheaply next to it;
when the last holding request ends, that connection is closed (before the answer is sent), and
a write closes it first.

Under load, requests overlap and some connection could be open all the time: another process
would never get the file. So this process's connections (reads, writes, the kept one) come in
*turns*. A turn starts when a connection opens while none is open (after a pause of at least
:data:`GAP_SECONDS`; a shorter pause does not end it). Once it is :data:`KEEP_SECONDS` old it
takes no new request: a request that would hold the store waits, and so does a read or write
while no request holds it. The requests already holding it finish (their reads still open, as
does any read begun while one of them runs, since it may be theirs), the kept connection closes
with the last of them, and once the last connection is closed none opens for
:data:`GAP_SECONDS`; then the waiting requests start the next turn.

The guarantee: under any load (reads and writes), this process has no connection to the file
open for at least :data:`GAP_SECONDS` at least once every :data:`KEEP_SECONDS` + the longest
request that holds the store + the longest read + :data:`GAP_SECONDS` (about 1 s plus a
request's time), as long as requests end. A request waits for the next turn at most that long.

What a ``vdto`` command sees: while the server is idle the file is free. Under continuous load
it is free only in those gaps, and DuckDB does not wait for a lock: a command that starts while
the server has the file open (``vdto import``, ``vdto tokens create`` …) stops at once with
``error: …: cannot open the store (IO Error: Could not set lock on file …); check that it is a
vdto DuckDB file and not in use by another process`` and must be run again. A try gets in only
if it opens the file during a gap (with the defaults, 0.05 s about every 1.3 s under continuous
load: roughly one try in 25), so under heavy load it takes many tries, or a pause in the load.
Once a command holds the file, the server answers 503 ("the store is in use by another process;
try again shortly") until it ends.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from vdto.errors import VdtoError
from vdto.store import Store

#: Seconds after which a turn of open connections takes no new request (see the module docstring).
KEEP_SECONDS = 1.0

#: Seconds with no connection open in this process between two turns (another process's chance).
GAP_SECONDS = 0.05

_POLL_SECONDS = 0.01  # how often a request waiting for the next turn looks again


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
    clock
        Seconds, monotonic (a test may drive time itself).
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self._wal = self.path.with_name(self.path.name + ".wal")
        self.lock = RWLock()
        self.generation = 0  # counts the writes this process made (cache keys)
        self._ready = False
        self._ready_lock = threading.Lock()
        self._clock = clock
        # the turn (module docstring), guarded by _gate
        self._gate = threading.Condition()
        self._holds = 0  # requests holding the store open (see held)
        self._open = 0  # connections open or about to open: reads, writes and the kept one
        self._keeper: Store | None = None  # the read-only connection kept while held
        self._keeping = False  # a read is opening it
        self._born: float | None = None  # when the turn began (None: no turn yet)
        self._idle_since: float | None = None  # when the last connection closed
        self._free_until = float("-inf")  # the gap after a full turn: nothing opens before

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

    # -- turns ------------------------------------------------------------------------------
    def _full(self, now: float) -> bool:
        """Whether the turn is :data:`KEEP_SECONDS` old (it takes no new request)."""
        return self._born is not None and now - self._born >= KEEP_SECONDS

    def _admit(self, hold: bool, *, block: bool = True) -> bool:
        """Let a holding request in (``hold``) or a connection open (not ``hold``).

        A connection of a request that holds the store is never kept waiting on the turn (its
        request is what the turn waits for), so while any request holds it every connection
        opens; the rest wait while the turn is full and during the gap after it. Without
        ``block``, answer False instead of waiting.
        """
        with self._gate:
            while True:
                now = self._clock()
                if self._open == 0 and self._full(now):
                    # the turn is over (its last connection closed before it was full): the gap
                    # runs from that close
                    idle = self._idle_since if self._idle_since is not None else now
                    self._born, self._free_until = None, max(self._free_until, idle + GAP_SECONDS)
                if now >= self._free_until:
                    if hold and not self._full(now):
                        self._holds += 1
                        return True
                    if not hold and (self._holds or not self._full(now)):
                        self._opened(now)
                        return True
                if not block:
                    return False
                # woken when a connection closes or a holder leaves; the gap ends by the clock
                wait = self._free_until - now if now < self._free_until else None
                self._gate.wait(min(wait, GAP_SECONDS) if wait is not None else GAP_SECONDS)

    def _opened(self, now: float) -> None:
        """Count a connection (called with ``_gate`` held); it may begin a turn."""
        if self._open == 0 and (
            self._born is None or (self._idle_since is not None and now - self._idle_since >= GAP_SECONDS)
        ):
            self._born = now
        self._open += 1
        self._idle_since = None

    def _closed(self) -> None:
        """Count a connection gone (called with ``_gate`` held); the last one of a full turn
        ends it and starts the gap."""
        self._open -= 1
        if self._open == 0:
            now = self._clock()
            self._idle_since = now
            if self._full(now):
                self._born = None
                self._free_until = now + GAP_SECONDS
        self._gate.notify_all()

    @contextmanager
    def _connection(self) -> Iterator[None]:
        """Count one connection of this process for the block (waiting for its turn first)."""
        self._admit(False)
        try:
            yield
        finally:
            with self._gate:
                self._closed()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the store open (read-only, between this block's reads) until the block ends.

        For a request that reads more than once; nothing is opened until the first read, and
        the connection kept is closed when the last holder leaves or a write begins. Entering
        waits while the turn is full (see the module docstring), blocking the thread: a server
        holds with :meth:`holding`, which waits without taking a worker thread.
        """
        self._admit(True)
        try:
            yield
        finally:
            self._unhold()

    @asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        """:meth:`held` for the event loop: while the turn is full, wait without taking a worker
        thread (the requests in the turn need those threads to finish)."""
        while not self._admit(True, block=False):
            await anyio.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled request lets go of the store too
                await anyio.to_thread.run_sync(self._unhold)

    def _unhold(self) -> None:
        """A holder leaves; the last one closes the kept connection."""
        with self._gate:
            self._holds -= 1
            self._gate.notify_all()
            if self._holds:
                return
        self._drop()

    def _keep(self) -> None:
        """Open the kept connection if a request holds the store (called under the read lock).

        Opened and closed outside ``_gate``, so that the event loop, which takes it to let a
        holder in, never waits for DuckDB; counted as open until it is closed."""
        with self._gate:
            if not self._holds or self._keeper is not None or self._keeping:
                return
            self._keeping = True
        try:
            keeper: Store | None = _open(self.path, True)
        finally:
            with self._gate:
                self._keeping = False
        with self._gate:
            if self._holds and self._keeper is None:
                self._keeper, keeper = keeper, None
                self._opened(self._clock())
        if keeper is not None:  # the last holder left meanwhile
            keeper.close()

    def _drop(self) -> None:
        """Close the kept connection, if any (before a write, and when the last holder leaves)."""
        with self._gate:
            keeper, self._keeper = self._keeper, None
        if keeper is not None:
            try:
                keeper.close()
            finally:
                with self._gate:
                    self._closed()

    # -- access ------------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Store]:
        """A read-only store, shared with other readers."""
        self.ensure()
        with self._connection(), self.lock.read():
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
        with self._connection(), self.lock.write():
            self._drop()  # nothing read-only may stay open in this process
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
        with self._connection(), self.lock.write():
            self._drop()  # nothing read-only may stay open in this process
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
