"""The ``vdto`` command line: one module per command group, each registered on one Typer app.

The shell parses options, calls :mod:`vdto.services` (or a domain function) and prints; errors a
user can cause print one line and exit with status 2.
"""

from vdto.cli.app import app, main

__all__ = ["app", "main"]
