"""Streaming ``multipart/form-data`` uploads to a temporary folder, with a size limit.

The body is read in chunks as it arrives and each file part is written straight to disk, so an
upload never sits in memory whole. The request's size limit is enforced by the server's
middleware (a ``Content-Length`` over it is refused before anything is read; a body that grows
over it is cut off with 413), so this module only parses.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from fastapi import HTTPException
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FIELD_BYTES = 4096  # a plain (non-file) form field


def safe_name(name: str, default: str) -> str:
    """A file name without folders or odd characters (what the import record will show)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _SAFE.sub("_", base).strip("._")[:100]
    return base or default


class _Collector:
    """Multipart callbacks writing each file part to ``folder/<field>/<file name>``."""

    def __init__(self, folder: Path, files: set[str], fields: set[str]) -> None:
        self.folder = folder
        self.allowed_files = files
        self.allowed_fields = fields
        self.files: dict[str, Path] = {}
        self.fields: dict[str, str] = {}
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._name: str | None = None
        self._out: BinaryIO | None = None
        self._text: bytearray | None = None
        self.error: str | None = None
        self.complete = False

    def on_end(self) -> None:
        self.complete = True

    # header callbacks
    def on_part_begin(self) -> None:
        self._headers, self._name, self._out, self._text = {}, None, None, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("latin-1")
        filename = params.get(b"filename")
        if name in self.allowed_files:
            if name in self.files:
                self._fail(f"the form field {name!r} is given twice")
                return
            part = self.folder / name
            part.mkdir(mode=0o700)
            path = part / safe_name(filename.decode("utf-8", "replace") if filename else "", name)
            self.files[name] = path
            self._out = open(path, "wb")  # noqa: SIM115 - closed in on_part_end
        elif name in self.allowed_fields:
            self._name = name
            self._text = bytearray()
        else:
            wanted = ", ".join(sorted(self.allowed_files | self.allowed_fields))
            self._fail(f"unexpected form field {name[:40]!r} (this endpoint takes: {wanted})")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None:
            self._out.write(data[start:end])
        elif self._text is not None:
            self._text += data[start:end]
            if len(self._text) > MAX_FIELD_BYTES:
                self._fail(f"the form field {self._name!r} is longer than {MAX_FIELD_BYTES} bytes")

    def on_part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._text is not None and self._name is not None:
            try:
                self.fields[self._name] = self._text.decode("utf-8")
            except UnicodeDecodeError:
                self._fail(f"the form field {self._name!r} is not UTF-8 text")
            self._text = None

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message
        raise _Stop(message)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


class _Stop(Exception):
    pass


async def receive_form(
    content_type: str | None,
    chunks: AsyncIterator[bytes],
    folder: Path,
    *,
    files: set[str],
    fields: frozenset[str] | set[str] = frozenset(),
) -> tuple[dict[str, Path], dict[str, str]]:
    """Parse a multipart body from ``chunks``, writing its file parts under ``folder``.

    Returns ``({field: path}, {field: text})``. A missing or malformed multipart body, or a field
    this endpoint does not take, is a 400 or 415 with a one-line message.
    """
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise HTTPException(415, "send the file as multipart/form-data (e.g. curl -F file=@events.csv)")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise HTTPException(400, "the multipart body has no boundary")
    collector = _Collector(folder, set(files), set(fields))
    callbacks = {
        name: getattr(collector, name)
        for name in (
            "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value", "on_header_end",
            "on_headers_finished", "on_end",
        )
    }  # fmt: skip
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except _Stop:
        raise HTTPException(400, collector.error or "bad multipart body") from None
    except (FormParserError, ValueError) as exc:
        raise HTTPException(400, f"malformed multipart body ({str(exc).splitlines()[0][:120]})") from None
    finally:
        collector.close()
    if not collector.complete:
        raise HTTPException(400, "the multipart body is incomplete (no closing boundary); send it again")
    return collector.files, collector.fields
