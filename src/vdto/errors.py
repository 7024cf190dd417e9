"""Errors a user can cause, and how they are reported.

Every error a user can cause by what they pass in (a malformed file, an unknown name, a bad
config key, a bad parameter) is a :class:`VdtoError`. The library names a bad parameter by its
Python name (``param="draws"``); each shell spells it its own way when it prints the error: the
CLI as ``--draws``, the HTTP API as the JSON field ``draws`` (see :meth:`VdtoError.line`). The
CLI prints the line and exits with status 2; no traceback is shown and nothing is partly written.

Examples
--------
>>> err = VdtoError("draws must be at least 1 (got 0)", fix="use e.g. 2000", param="draws")
>>> err.line()
'draws: draws must be at least 1 (got 0); use e.g. 2000'
>>> err.line(lambda p: "--" + p)
'--draws: draws must be at least 1 (got 0); use e.g. 2000'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: How a shell names a parameter: ``"draws" -> "--draws"`` (CLI) or ``"draws"`` (JSON).
Spell = Callable[[str], str]


#: How the Python library names the actions a fix may point to (parameters keep their names).
PYTHON_NAMES: dict[str, str] = {
    "register": "Store.add_org or Store.add_alias",
    "list_orgs": "Registry.to_frame()",
    "compare_out": "vdto.sim.results.write_parquet",
}


def spelling(names: dict[str, str], default: Spell = str) -> Spell:
    """A shell's spelling: ``names[param]`` where the shell has its own name, else ``default``.

    Examples
    --------
    >>> spelling({"start": "--from"}, lambda p: "--" + p)("start"), spelling({})("draws")
    ('--from', 'draws')
    """
    return lambda param: names.get(param, default(param))


#: The library's own spelling of a parameter (its Python name) or of an action.
plain: Spell = spelling(PYTHON_NAMES)


class VdtoError(Exception):
    """An error caused by user input: one line saying what, where and how to fix it.

    Parameters
    ----------
    what
        What is wrong, e.g. ``'deaths_best is negative ("-3")'``.
    where
        Where: ``file:row:column``, a config key or a name. Empty when the place is a parameter.
    fix
        How to fix it, as an instruction. It may name other parameters, or actions such as
        ``register`` (add an organization or an alias) and ``list_orgs``, as ``{name}`` when they
        are listed in ``mentions``; each shell fills in its own spelling.
    param
        The bad parameter, by its Python name (``"draws"``, ``"start"``); shown where ``where`` is
        empty, spelled by the shell that prints the error.
    mentions
        Parameters and actions named in the text as ``{name}``.
    """

    exit_code = 2

    def __init__(
        self,
        what: str,
        where: str = "",
        fix: str = "",
        *,
        param: str | None = None,
        mentions: Iterable[str] = (),
    ) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        self.param = param
        self.mentions = tuple(mentions)
        super().__init__(self.line())

    def place(self, spell: Spell = plain) -> str:
        """Where the problem is: ``where``, else the parameter as the shell spells it."""
        if self.where:
            return self.where
        return spell(self.param) if self.param else ""

    def line(self, spell: Spell = plain) -> str:
        """The single line shown to the user, with parameters spelled by ``spell``."""
        place = self.place(spell)
        head = f"{place}: {self.what}" if place else self.what
        text = f"{head}; {self.fix}" if self.fix else head
        for name in self.mentions:  # plain replacement: other braces in the text stay as they are
            text = text.replace("{" + name + "}", spell(name))
        return " ".join(text.split())  # never more than one line


class InputFileError(VdtoError):
    """A file cannot be read as the format it claims to be (empty, binary, bad encoding...)."""


class ConfigError(VdtoError):
    """A configuration file (mapping, rubric, scenario) is invalid; ``where`` names the key."""


class UnknownNameError(VdtoError):
    """A name (organization, region, category) is not known."""


class ConflictError(VdtoError):
    """The request is valid but the state does not allow it (a round already open, signed twice)."""


class PermissionDenied(VdtoError):
    """The caller may not do this (another agency's round, a role that does not hold the right)."""


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
    """Rows of an input file failed validation; the first is shown, all are in ``problems``.

    The fix names the parameters ``skip_bad_rows`` (import the valid rows only) and ``report``
    (write every problem to a file), which each shell spells its own way.
    """

    def __init__(self, file: str, problems: list[RowProblem], report: str | None = None) -> None:
        self._first_of(file, problems, report, " (or import the valid rows only with {skip_bad_rows})",
                       ("skip_bad_rows", "report"))  # fmt: skip

    def _first_of(self, file: str, problems: list[RowProblem], report: str | None, fix_more: str,
                  mentions: tuple[str, ...]) -> None:  # fmt: skip
        """Say the first problem (where, what, its fix + ``fix_more``) and how many more there are."""
        self.problems = problems
        first = problems[0]
        more = len(problems) - 1
        tail = ""
        if more:
            tail = f" ({more} more problem{'s' if more > 1 else ''}"
            tail += f", all listed in {report})" if report else "; list them all with {report})"
        # a row's fix may name an option as {name} too (e.g. a wider date range): the shell spells it
        named = tuple(re.findall(r"\{([a-z_]+)\}", first.fix))
        VdtoError.__init__(
            self,
            what=f"{first.column_name} {first.message} (value {first.value!r}){tail}",
            where=f"{file}:{first.row}:{first.column}",
            fix=first.fix + fix_more,
            mentions=(*mentions, *named),
        )
