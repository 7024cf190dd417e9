"""PySAL's esda, imported with its plain-Python permutation engine.

esda compiles its conditional-permutation functions (``esda.crand``, ``esda.significance``) with
Numba whenever Numba can be imported, and asks Numba not to cache them, so every new process
spends about 18 s compiling before its first local Moran (measured on the municipal contiguity,
2 cores). vdto installs Numba for its simulator (``vdto.sim.kernels``), so a plain
``import esda`` would make every ``vdto regions hotspots`` and ``vdto demo`` 18 s slower. esda's
own fallback, used when Numba is missing, runs the same seeded permutations in NumPy and takes
about 0.15 s for 999 permutations of 2,457 municipalities (docs/benchmarks.md), with the same
p-values. :func:`esda` imports esda with Numba hidden, so that it takes that fallback, and
:func:`weights` imports libpysal's weights the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType


def _plain_jit(function: Callable | None = None, **_options) -> Callable:
    """A stand-in for ``numba.jit``/``njit``, bare or with options: the function unchanged."""
    if function is None:
        return lambda f: f
    return function


@contextmanager
def _numba_hidden() -> Iterator[None]:
    """``from numba import ...`` fails inside; libpysal's ``jit`` (which esda falls back to) is
    the plain stand-in if libpysal was imported with Numba before."""
    absent = object()
    saved = sys.modules.get("numba", absent)
    common = sys.modules.get("libpysal.common")
    saved_jit = getattr(common, "jit", None)
    sys.modules["numba"] = None  # type: ignore[assignment]  # makes the import raise ImportError
    if common is not None:
        common.jit = _plain_jit  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if saved is absent:
            del sys.modules["numba"]
        else:
            sys.modules["numba"] = saved  # type: ignore[assignment]
        if common is not None:
            common.jit = saved_jit  # type: ignore[attr-defined]


def _load() -> None:
    """Import libpysal's weights and esda with Numba hidden, once per process (modules imported
    before, by anything else, are left as they are)."""
    if "esda" in sys.modules and "libpysal.weights" in sys.modules:
        return
    with _numba_hidden():
        import esda
        import esda.crand
        import esda.significance
        import libpysal.weights

        del esda, libpysal


def esda() -> ModuleType:
    """The esda package, with its plain-Python permutation engine."""
    _load()
    return sys.modules["esda"]


def weights() -> ModuleType:
    """``libpysal.weights`` (imported with esda, without Numba: Numba alone takes about 0.8 s
    to import, which the regional commands do not need)."""
    _load()
    return sys.modules["libpysal.weights"]


__all__ = ["esda", "weights"]
