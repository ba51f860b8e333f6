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
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import Promise
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from weasyprint import HTML, URLFetcher
from xlsxwriter import Workbook

Progress = Callable[[int], None]
T = TypeVar("T")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
COPY_BUFFER = 1024 * 1024


SEOUL = ZoneInfo("Asia/Seoul")


def spreadsheet_local_time(moment: dt.datetime | None) -> dt.datetime | None:
    """Seoul wall-clock time to the second, without a time zone (what spreadsheets can hold)."""
    return moment.astimezone(SEOUL).replace(tzinfo=None, microsecond=0) if moment else None


def business_number_display(number: str) -> str:
    """A business registration number as printed on the certificate (123-45-67890); anything else as it is."""
    return f"{number[:3]}-{number[3:5]}-{number[5:]}" if len(number) == 10 and number.isdigit() else number


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that starts like a formula gets a leading single quote; other values are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _report(progress: Progress | None, count: int) -> None:
    if progress is not None and count % settings.EXPORT_PROGRESS_ROWS == 0:
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


# Control characters an XML 1.0 document (the sheet) cannot hold; tab, line feed and carriage return stay.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Text goes in as text: never read as a formula, a link or a number (the cells are neutralised besides).
XLSX_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "default_date_format": DATETIME_FORMAT,
}


def xlsx_write(out: BinaryIO, sheets: Sequence[Sheet], *, progress=None) -> int:
    """An .xlsx workbook written by XlsxWriter in constant-memory mode: each row goes to a temporary file as it
    is written (text inline, no shared-string table), so memory does not grow with the rows. Returns the number
    of data rows written."""
    workbook = Workbook(out, XLSX_OPTIONS)
    bold = workbook.add_format({"bold": True, "valign": "top"})
    money = workbook.add_format({"num_format": MONEY_FORMAT})
    money_bold = workbook.add_format({"num_format": MONEY_FORMAT, "bold": True})
    count = 0
    for sheet in sheets:
        worksheet = workbook.add_worksheet(sheet.title[:31])
        for index, width in enumerate(sheet.widths):
            worksheet.set_column(index, index, width)
        worksheet.freeze_panes(len(sheet.preamble) + 1, 0)
        line_number = 0
        for line in (*sheet.preamble, sheet.header):
            worksheet.write_row(line_number, 0, [_xlsx_value(value) for value in line], bold)
            line_number += 1
        for row in sheet.rows:
            _write_row(worksheet, line_number, row, sheet.money_columns, money)
            line_number += 1
            count += 1
            _report(progress, count)
        for line in sheet.footer() if sheet.footer else ():
            worksheet.write_row(line_number, 0, [_xlsx_value(value) for value in line], bold)
            for column in sheet.money_columns & set(range(len(line))):
                worksheet.write(line_number, column, _xlsx_value(line[column]), money_bold)
            line_number += 1
    workbook.close()
    return count


def _write_row(worksheet, line_number: int, row: Sequence[Any], money_columns: frozenset[int], money) -> None:
    for column, value in enumerate(row):
        if value is not None:  # an empty cell is simply not written
            worksheet.write(line_number, column, _xlsx_value(value), money if column in money_columns else None)


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
    for page in writer.pages:
        _page_actions_remove(page)
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)  # the removed actions too
    writer.write(out)
    return len(writer.pages)


def _page_actions_remove(page) -> None:
    """An appended PDF (evidence stored before the upload check read every revision) must not bring a script
    into the pack: the page's own actions go, and so does every annotation action but a link (URI, GoTo)."""
    if "/AA" in page:
        del page["/AA"]
    for reference in page.get("/Annots") or []:
        annotation = reference.get_object()
        if "/AA" in annotation:
            del annotation["/AA"]
        action = annotation.get("/A")
        if action is not None and action.get_object().get("/S") not in ("/URI", "/GoTo"):
            del annotation["/A"]


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
