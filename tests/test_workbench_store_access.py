"""The server's store access under load: connections come in turns of at most ``KEEP_SECONDS``,
with a gap after each in which this process has no connection to the file open (so a ``vdto``
command in another process can open it). Time is a fake clock the tests move themselves."""

from __future__ import annotations

import asyncio
import threading
from contextlib import ExitStack

import duckdb
import pytest

from vdto.api.access import GAP_SECONDS, KEEP_SECONDS, Cache, StoreAccess
from vdto.api.app import create_app

JOIN = 30.0  # seconds a finished thread has to end in (a guard; nothing waits on real time)


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access(tmp_path, clock) -> StoreAccess:
    found = StoreAccess(tmp_path / "store.duckdb", clock=clock)
    found.ensure()
    return found


def _file_is_free(access: StoreAccess) -> bool:
    """No connection of this process holds the file: a read-write connection opens (DuckDB
    refuses one beside a read-only connection of the same process)."""
    try:
        duckdb.connect(str(access.path)).close()
    except duckdb.Error:
        return False
    return True


def _nothing_open(access: StoreAccess) -> bool:
    return access._open == 0 and access._keeper is None and _file_is_free(access)


def test_a_full_turn_takes_no_new_holder_and_the_file_is_let_go_before_the_next(access, clock):
    done = threading.Event()
    seen: dict = {}

    def newcomer() -> None:
        with access.held(), access.read() as store:
            seen["keeper"] = access._keeper
            seen["events"] = store.count("events")
        done.set()

    with ExitStack() as first:
        first.enter_context(access.held())
        with access.read():
            old = access._keeper
        assert old is not None
        first.enter_context(access.held())  # a second, overlapping holder joins the same connection
        with access.read():
            assert access._keeper is old
        assert not _file_is_free(access)

        clock.advance(KEEP_SECONDS)
        assert not access._admit(True, block=False)  # a new holder does not join the old turn
        with access.read():  # a read while holders remain may be theirs: it opens beside them
            assert access._keeper is old
        late = threading.Thread(target=newcomer)
        late.start()
    # the old holders are gone: nothing is open, and nothing opens during the gap
    assert _nothing_open(access)
    assert not done.is_set() and access._holds == 0
    assert not access._admit(True, block=False) and not access._admit(False, block=False)

    clock.advance(GAP_SECONDS)
    late.join(JOIN)
    assert done.is_set() and seen["events"] == 0
    assert seen["keeper"] is not None and seen["keeper"] is not old  # a new turn, a new connection
    assert _nothing_open(access)


def test_reads_outside_held_requests_take_turns_too(access, clock):
    with access.read():
        clock.advance(KEEP_SECONDS)
        assert not access._admit(False, block=False)  # nobody holds the store: a new read waits
    assert _nothing_open(access)
    assert not access._admit(False, block=False)
    clock.advance(GAP_SECONDS)
    with access.read() as store:
        assert store.count("events") == 0
        assert access._born == clock.now  # the read began a new turn


def test_a_turn_that_ended_just_before_it_was_full_still_leaves_a_gap(access, clock):
    with access.read():
        clock.advance(KEEP_SECONDS - 0.01)  # the turn is not full yet: closing starts no gap
    clock.advance(0.02)  # the turn is full now, with nothing open: the gap runs from the close
    assert not access._admit(False, block=False) and not access._admit(True, block=False)
    clock.advance(GAP_SECONDS - 0.01)
    with access.read():
        assert access._born == clock.now


def test_under_continuous_overlapping_load_the_file_is_free_at_least_every_turn(access, clock):
    """Requests arrive every STEP, each holds the store with a read open for LENGTH: there is
    always one in flight. Still, every KEEP_SECONDS + LENGTH + GAP_SECONDS (at most), nothing
    is open for GAP_SECONDS; every request is served."""
    step, length, until = 0.01, 0.3, 6.0
    start = clock.now
    waiting: list[float] = []  # arrival times of the requests not let in yet
    flying: list[tuple[float, ExitStack]] = []  # (end, the request's hold and read)
    free: list[float] = []  # the moments nothing was open
    waited: list[float] = []
    checked = False
    while clock.now - start < until:
        for end, stack in [f for f in flying if f[0] <= clock.now]:
            stack.close()
            flying.remove((end, stack))
        waiting.append(clock.now)
        while waiting and access._admit(True, block=False):
            with ExitStack() as stack:
                stack.callback(access._unhold)
                stack.enter_context(access.read())
                flying.append((clock.now + length, stack.pop_all()))
            waited.append(clock.now - waiting.pop(0))
        if access._open == 0:
            free.append(clock.now)
            if not checked:
                assert _file_is_free(access)
                checked = True
        assert len(flying) + len(waiting) >= 1
        clock.advance(step)
    for _, stack in flying:
        stack.close()

    bound = KEEP_SECONDS + length + GAP_SECONDS + step
    assert free and checked
    runs: list[list[float]] = []  # the gaps: runs of free moments one step apart
    for t in free:
        if runs and t - runs[-1][-1] < 1.5 * step:
            runs[-1].append(t)
        else:
            runs.append([t])
    starts = [run[0] for run in runs]
    assert max(b - a for a, b in zip([start, *starts], [*starts, clock.now], strict=True)) <= bound
    assert len(runs) >= int(until / bound)
    assert all(run[-1] - run[0] + step >= GAP_SECONDS - step / 2 for run in runs[:-1])
    assert max(waited) <= bound
    assert _nothing_open(access)


def test_holding_waits_for_the_next_turn_on_the_event_loop(access, clock):
    """The server's holders wait for the next turn without taking a worker thread; a
    cancelled holder lets go of the store too."""

    async def main() -> None:
        async with access.holding():
            with access.read():
                old = access._keeper
            clock.advance(KEEP_SECONDS)
            tried = asyncio.Event()
            later = asyncio.create_task(_hold_and_read(tried=tried))
            await tried.wait()  # it has asked to be let in, and was told to wait
            assert not later.done() and access._holds == 1
        assert _nothing_open(access) and not later.done()
        clock.advance(GAP_SECONDS)
        keeper = await asyncio.wait_for(later, JOIN)
        assert keeper is not None and keeper is not old

        with access.read():  # a full turn that nobody holds: a new holder waits ...
            clock.advance(KEEP_SECONDS)
            tried = asyncio.Event()
            waiting = asyncio.create_task(_hold_and_read(tried=tried))
            await tried.wait()
            waiting.cancel()  # ... and may be cancelled while it waits
            with pytest.raises(asyncio.CancelledError):
                await waiting
        clock.advance(GAP_SECONDS)

        inside = asyncio.Event()
        stuck = asyncio.create_task(_hold_and_read(inside, asyncio.Event()))
        await asyncio.wait_for(inside.wait(), JOIN)
        assert access._holds == 1 and access._keeper is not None
        stuck.cancel()  # a request cancelled while it holds the store still lets go of it
        with pytest.raises(asyncio.CancelledError):
            await stuck
        assert access._holds == 0 and _nothing_open(access)

    async def _hold_and_read(
        inside: asyncio.Event | None = None,
        never: asyncio.Event | None = None,
        tried: asyncio.Event | None = None,
    ):
        if tried is not None:
            # set before asking: the task runs on until its first wait for admission, so whoever
            # awaits ``tried`` resumes only once the task has asked and been told to wait
            tried.set()
        async with access.holding():
            with access.read():
                keeper = access._keeper
            if inside is not None and never is not None:
                inside.set()
                await never.wait()
            return keeper

    asyncio.run(main())


def test_the_event_and_region_caches_are_made_with_the_app(tmp_path):
    app = create_app(tmp_path / "s.duckdb")
    caches = [app.state.events_cache, app.state.regions_cache, app.state.vdto.cache]
    assert all(isinstance(c, Cache) for c in caches)
    assert len({id(c) for c in caches}) == 3
