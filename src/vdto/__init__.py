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

from vdto.errors import VdtoError
from vdto.orgs import Registry
from vdto.store import Store

__all__ = ["Registry", "Store", "VdtoError", "__version__"]
