"""vdto: violence-targeted drug enforcement.

Import real event data, score and rank drug-trafficking organizations by violence with stated
uncertainty, and support the rounds of the targeted-enforcement strategy.

Examples
--------
>>> import vdto
>>> vdto.Registry.seed().resolve("CJNG").org_id
'cjng'
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vdto")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["Registry", "Store", "VdtoError", "__version__"]

_LAZY = {"Registry": "vdto.orgs", "Store": "vdto.store", "VdtoError": "vdto.errors"}


def __getattr__(name: str):
    # the heavy modules (pandas, DuckDB) load on first use, so `vdto --help` starts fast
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vdto' has no attribute {name!r}")
