"""Errors a user can cause, and how they are reported.

Every error a user can cause by what they pass in (a malformed file, an unknown name, a bad
config key) is a :class:`VdtoError`. The CLI prints ``str(error)`` as one line and exits with
status 2; no traceback is shown and nothing is partly written.
"""

from __future__ import annotations

from dataclasses import dataclass


class VdtoError(Exception):
    """An error caused by user input: one line saying what, where and how to fix it.

    Parameters
    ----------
    what
        What is wrong, e.g. ``'deaths_best is negative ("-3")'``.
    where
        Where: ``file:row:column``, a config key or a name. Empty when there is no place.
    fix
        How to fix it, as an instruction.
    """

    exit_code = 2

    def __init__(self, what: str, where: str = "", fix: str = "") -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        """The single line shown to the user."""
        head = f"{self.where}: {self.what}" if self.where else self.what
        text = f"{head}; {self.fix}" if self.fix else head
        return " ".join(text.split())  # never more than one line


class InputFileError(VdtoError):
    """A file cannot be read as the format it claims to be (empty, binary, bad encoding...)."""


class ConfigError(VdtoError):
    """A configuration file (mapping, rubric, scenario) is invalid; ``where`` names the key."""


class UnknownNameError(VdtoError):
    """A name (organization, region, category) is not known."""


@dataclass(frozen=True)
class RowProblem:
    """One problem in one cell of an input table.

    ``row`` counts the header as row 1, so the first data row is row 2 (as a spreadsheet shows
    it); ``column`` is 1-based.
    """

    row: int
    column: int
    column_name: str
    value: str
    message: str
    fix: str


class RowErrors(VdtoError):
    """Rows of an input file failed validation; the first is shown, all are in ``problems``."""

    def __init__(self, file: str, problems: list[RowProblem], report: str | None = None) -> None:
        self.problems = problems
        first = problems[0]
        more = len(problems) - 1
        tail = ""
        if more:
            tail = f" ({more} more problem{'s' if more > 1 else ''}"
            tail += f", all listed in {report})" if report else "; list them all with --report FILE)"
        super().__init__(
            what=f"{first.column_name} {first.message} (value {first.value!r}){tail}",
            where=f"{file}:{first.row}:{first.column}",
            fix=first.fix + " (or import the valid rows only with --skip-bad-rows)",
        )
