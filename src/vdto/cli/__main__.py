"""``python -m vdto.cli``: the ``vdto`` command."""

from vdto.cli.app import main

main()
