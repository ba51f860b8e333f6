"""Writers for the export files: CSV, XLSX, PDF and ZIP.

They take plain rows (iterables of values) and write to a binary file object as they go, so memory does not grow
with the number of rows; none of them touches the database. Spreadsheet cells that Excel would run as a formula
are neutralised with a leading single quote (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from weasyprint import HTML, URLFetcher

Progress = Callable[[int], None]
T = TypeVar("T")
PROGRESS_EVERY = 2000
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
COPY_BUFFER = 1024 * 1024


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that starts like a formula gets a leading single quote; other values are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _report(progress: Progress | None, count: int) -> None:
    if progress is not None and count % PROGRESS_EVERY == 0:
        progress(count)


# --- CSV --------------------------------------------------------------------------------------------------------


def csv_write(out: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[Any]], *, progress=None) -> int:
    """UTF-8 with a byte-order mark (so Excel shows Korean), CRLF line ends; returns the number of rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow([spreadsheet_safe(title) for title in header])
        count = 0
        for row in rows:
            writer.writerow([spreadsheet_safe(value) for value in row])
            count += 1
            _report(progress, count)
        text.flush()
    finally:
        text.detach()  # leaves `out` open for the caller
    return count


# --- XLSX -------------------------------------------------------------------------------------------------------


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        return spreadsheet_safe(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: the caller gives local times
    return value


@dataclass
class Sheet:
    """One worksheet: optional title lines above the header, the header, the rows and optional closing lines.
    `widths` are column widths in characters; `money_columns` (0-based) are shown as `#,##0`."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    preamble: Sequence[Sequence[Any]] = ()
    footer: Callable[[], Sequence[Sequence[Any]]] | None = None
    widths: Sequence[int] = ()
    money_columns: frozenset[int] = field(default_factory=frozenset)


MONEY_FORMAT = "#,##0"


def xlsx_write(out: BinaryIO, sheets: Sequence[Sheet], *, progress=None) -> int:
    """An .xlsx workbook in openpyxl's write-only mode: rows are appended and never read back. Returns the
    number of data rows written."""
    workbook = Workbook(write_only=True)
    count = 0
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title[:31])
        for index, width in enumerate(sheet.widths, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = width
        worksheet.freeze_panes = f"A{len(sheet.preamble) + 2}"
        bold = Font(bold=True)
        for line in sheet.preamble:
            worksheet.append([_bold_cell(worksheet, value, bold) for value in line])
        worksheet.append([_bold_cell(worksheet, title, bold) for title in sheet.header])
        for row in sheet.rows:
            if sheet.money_columns:
                worksheet.append(_money_row(worksheet, row, sheet.money_columns))
            else:
                worksheet.append([_xlsx_value(value) for value in row])
            count += 1
            _report(progress, count)
        for line in sheet.footer() if sheet.footer else ():
            worksheet.append(_money_row(worksheet, line, sheet.money_columns, font=bold))
    workbook.save(out)
    return count


def _bold_cell(worksheet, value: Any, font: Font) -> WriteOnlyCell:
    cell = WriteOnlyCell(worksheet, value=_xlsx_value(value))
    cell.font = font
    cell.alignment = Alignment(vertical="top")
    return cell


def _money_row(worksheet, row: Sequence[Any], money: frozenset[int], *, font: Font | None = None) -> list:
    cells = []
    for index, value in enumerate(row):
        cell = WriteOnlyCell(worksheet, value=_xlsx_value(value))
        if index in money:
            cell.number_format = MONEY_FORMAT
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


# --- PDF --------------------------------------------------------------------------------------------------------


def _html_pdf(html: str) -> tuple[bytes, int]:
    """WeasyPrint with the Korean fonts from fontconfig (NanumGothic, NanumMyeongjo). Nothing is fetched: pictures
    are embedded as data URIs and any other URL stops the rendering."""
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher).render()
    return document.write_pdf(), len(document.pages)


def pdf_table_write(
    out: BinaryIO,
    *,
    template: str,
    context: dict[str, Any],
    rows: Iterable[Any],
    rows_per_part: int = 1000,
    progress=None,
) -> int:
    """A long table as one PDF, rendered `rows_per_part` rows at a time (WeasyPrint's memory grows with the
    document) and joined with pypdf. The template gets `rows`, `first_page` (page numbers continue across
    parts), `is_first` and `is_last` (for the title block and the totals row). Returns the number of rows."""
    writer = PdfWriter()
    count = 0
    first_page = 1
    parts = _with_last_flag(chunked(rows, rows_per_part))
    for index, (part, is_last) in enumerate(parts):
        html = render_to_string(
            template, {**context, "rows": part, "first_page": first_page, "is_first": index == 0, "is_last": is_last}
        )
        pdf, pages = _html_pdf(html)
        writer.append(PdfReader(io.BytesIO(pdf)))
        first_page += pages
        count += len(part)
        if progress is not None:
            progress(count)
    writer.write(out)
    return count


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` consecutive items."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _with_last_flag(parts: Iterator[list[Any]]) -> Iterator[tuple[list[Any], bool]]:
    """(part, is_last) pairs; an empty input still gives one empty part, so the document has its title."""
    previous = next(parts, [])
    for part in parts:
        yield previous, False
        previous = part
    yield previous, True


def pdf_readable(data: bytes) -> PdfReader | None:
    """The PDF's reader when pypdf can read its pages, else None (a damaged or foreign file)."""
    try:
        reader = PdfReader(io.BytesIO(data))
        return reader if len(reader.pages) > 0 else None
    except (PyPdfError, ValueError, KeyError, TypeError):
        return None


def pdf_compose_write(out: BinaryIO, *, template: str, context: dict[str, Any], appendices: Sequence[PdfReader]) -> int:
    """The rendered template followed by the pages of each appended PDF; returns the number of pages."""
    pdf, _pages = _html_pdf(render_to_string(template, context))
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf)))
    for appendix in appendices:
        writer.append(appendix)
    writer.write(out)
    return len(writer.pages)


# --- ZIP --------------------------------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f\\/:*?"<>|\s]+')


def safe_file_name(name: str, *, max_length: int = 80, fallback: str = "file") -> str:
    """A file or folder name that is safe on Windows, macOS and Linux: NFC, no separators, reserved characters
    or control characters, no leading dots, at most `max_length` characters (the extension is kept)."""
    name = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFC", name)).strip("._ ")
    if not name:
        return fallback
    if len(name) <= max_length:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and 0 < len(extension) <= 8 and stem:
        return f"{stem[: max_length - len(extension) - 1].rstrip('._ ')}.{extension}"
    return name[:max_length].rstrip("._ ")


@dataclass(frozen=True)
class Stored:
    """What was written into the archive: its path, size in bytes and SHA-256."""

    path: str
    size: int
    sha256: str


class ZipBundle:
    """A ZIP archive written entry by entry; each entry's size and SHA-256 are computed while it is copied in.
    Names are UTF-8 (flagged as such); archives over 4 GB or 65,535 entries use ZIP64."""

    def __init__(self, out: BinaryIO) -> None:
        self.archive = zipfile.ZipFile(out, "w", allowZip64=True)
        self.date_time = timezone.localtime().timetuple()[:6]

    def add_stream(self, path: str, source: BinaryIO, *, compress: bool = False) -> Stored:
        info = zipfile.ZipInfo(path, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o600 << 16
        digest = hashlib.sha256()
        size = 0
        with self.archive.open(info, "w", force_zip64=True) as target:
            while chunk := source.read(COPY_BUFFER):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
        return Stored(path, size, digest.hexdigest())

    def add_bytes(self, path: str, data: bytes, *, compress: bool = True) -> Stored:
        return self.add_stream(path, io.BytesIO(data), compress=compress)

    def close(self) -> None:
        self.archive.close()


class SpooledCsv:
    """A CSV (UTF-8 with BOM) built row by row in a temporary file that stays in memory while small."""

    def __init__(self, header: Sequence[str]) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (closed by close())
        self.text = io.TextIOWrapper(self.file, encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.text)
        self.writer.writerow([spreadsheet_safe(title) for title in header])

    def writerow(self, row: Sequence[Any]) -> None:
        self.writer.writerow([spreadsheet_safe(value) for value in row])

    def finished(self) -> BinaryIO:
        """The CSV, rewound, for reading."""
        self.text.flush()
        self.text.detach()
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.file.close()


def file_sha256(source: BinaryIO) -> tuple[int, str]:
    """(size, SHA-256) of a file object read from its start."""
    source.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(COPY_BUFFER):
        digest.update(chunk)
        size += len(chunk)
    source.seek(0)
    return size, digest.hexdigest()
