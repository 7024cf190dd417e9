"""pyabc, imported without its side effect: on import it sets ``OMP_NUM_THREADS=1`` and two
``KMP_*`` variables in this process's environment, which every process started afterwards
inherits (one BLAS thread changes floating-point sums in their tenth digit, e.g. the route
assignment of ``vdto routes shift``). The environment is put back as it was."""

from __future__ import annotations

from vdto.environ import kept

with kept():
    import pyabc
    from pyabc.sampler import MappingSampler

__all__ = ["MappingSampler", "pyabc"]
