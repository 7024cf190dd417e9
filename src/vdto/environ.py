"""Keeping this process's environment as it was around code that changes it behind our back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def kept() -> Iterator[None]:
    """Restore ``os.environ`` on leaving: variables added are removed, changed ones put back.

    >>> import os
    >>> with kept():
    ...     os.environ["VDTO_EXAMPLE"] = "1"
    >>> "VDTO_EXAMPLE" in os.environ
    False
    """
    saved = dict(os.environ)
    try:
        yield
    finally:
        for k in set(os.environ) - set(saved):
            del os.environ[k]
        os.environ.update(saved)


__all__ = ["kept"]
