"""Untrusted PDFs: what active content one holds (read with a real parser, every revision and every filter), and
its first pages drawn as PNG images on the server so that staff never open an evidence PDF in a PDF viewer.

Inspection reads the file twice, and a feature found either way counts:
- pypdf's object table (the newest revision, objects inside object streams and cross-reference streams, decrypted
  with the empty password when the file is protected only against editing);
- every `N G obj ... endobj` body found in the raw bytes, which includes the objects of earlier revisions that an
  incremental update replaced (some viewers still reach them) and objects no table points to. Object streams among
  them are decoded with the filters they name (FlateDecode, ASCIIHexDecode, ASCII85Decode, LZWDecode,
  RunLengthDecode and chains of them) and the objects inside are read; names are read with their #xx escapes
  undone (/J#61vaScript is /JavaScript).

Rendering uses PDFium (pypdfium2). The PDFium that pypdfium2 ships is built without V8 (no JavaScript engine) and
without XFA, and we never start its form environment: it runs no script, action or form, drawing a page is all it
does. That is why previews are drawn with it and never by a browser; `pdf_render` refuses to run on a build that has
V8.
"""

import bisect
import io
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# What a PDF can hold besides pages, by the names that introduce it.
JAVASCRIPT = "javascript"  # /JS, /JavaScript (an action, the document's names tree, /OpenAction, /AA)
LAUNCH = "launch"  # /Launch: opens a program or a file
RICH_MEDIA = "rich_media"  # /RichMedia (Flash, video with scripting), /Movie, /Sound, /Rendition actions
EMBEDDED_FILE = "embedded_file"  # /EmbeddedFile(s), /GoToE: files carried inside the PDF
XFA = "xfa"  # /XFA: an XML form, which may carry its own scripts
SUBMIT_FORM = "submit_form"  # /SubmitForm, /ImportData: form actions that send or load data

# Names and the finding each stands for, wherever it appears (a dictionary key or a name value).
ACTIVE_NAMES = {
    b"JS": JAVASCRIPT,
    b"JavaScript": JAVASCRIPT,
    b"Launch": LAUNCH,
    b"RichMedia": RICH_MEDIA,
    b"RichMediaExecute": RICH_MEDIA,
    b"RichMediaContent": RICH_MEDIA,
    b"Movie": RICH_MEDIA,
    b"Sound": RICH_MEDIA,
    b"Rendition": RICH_MEDIA,
    b"EmbeddedFile": EMBEDDED_FILE,
    b"EmbeddedFiles": EMBEDDED_FILE,
    b"GoToE": EMBEDDED_FILE,
    b"XFA": XFA,
    b"SubmitForm": SUBMIT_FORM,
    b"ImportData": SUBMIT_FORM,
}
# A name token: '/' and regular characters (PDF 32000-1 7.2.2: anything but white space and delimiters).
NAME_TOKEN = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
OBJECT_HEADER = re.compile(rb"(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b")
STREAM_START = re.compile(rb"\bstream(?:\r\n|\n|\r)")
ENDSTREAM = re.compile(rb"(?:\r\n|\n|\r)?endstream")
ENDOBJ = re.compile(rb"\bendobj\b")

# Limits for a hostile file: total decoded bytes across all streams, and the number of objects looked at.
MAX_DECODED_BYTES = 400 * 1024 * 1024
MAX_OBJECTS = 200_000


class PdfUnreadable(Exception):  # noqa: N818 - a state of the file, not a programming error
    """The file is not a PDF a parser can read (damaged, truncated, or locked with a password)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Reasons for PdfUnreadable and for a preview that could not be made.
DAMAGED = "damaged"
PASSWORD = "password"  # noqa: S105 - a reason code, not a password
TOO_COMPLEX = "too_complex"
TIMEOUT = "timeout"
NO_PAGES = "no_pages"


@dataclass
class PdfInspection:
    """What was found. `unreadable` is set (DAMAGED, PASSWORD, NO_PAGES, TOO_COMPLEX) when the parser could not
    read the file; the raw walk has still looked at every object body, so its findings stand either way."""

    findings: set[str] = field(default_factory=set)
    encrypted: bool = False
    unreadable: str = ""


def _name_decode(raw: bytes) -> bytes:
    return NAME_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), raw)


def names_findings(text: bytes) -> set[str]:
    """Findings from every name token in a piece of PDF syntax (an object body or a decoded object stream)."""
    found = set()
    for match in NAME_TOKEN.finditer(text):
        finding = ACTIVE_NAMES.get(_name_decode(match.group(1)))
        if finding:
            found.add(finding)
    return found


class _Budget:
    def __init__(self) -> None:
        self.decoded = 0
        self.objects = 0

    def spend(self, *, decoded: int = 0, objects: int = 0) -> None:
        self.decoded += decoded
        self.objects += objects
        if self.decoded > MAX_DECODED_BYTES or self.objects > MAX_OBJECTS:
            raise PdfUnreadable(TOO_COMPLEX)


def pdf_inspect(data: bytes) -> PdfInspection:
    """Every active feature the PDF holds in any revision, and whether a parser can read it at all."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    inspection = PdfInspection()
    budget = _Budget()
    reader = None
    if not data.startswith(b"%PDF-"):
        inspection.unreadable = DAMAGED
    else:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                inspection.encrypted = True
                if not reader.decrypt(""):
                    inspection.unreadable, reader = PASSWORD, None
            if reader is not None and len(reader.pages) == 0:
                inspection.unreadable = NO_PAGES
        except FileNotDecryptedError:
            inspection.unreadable, reader = PASSWORD, None
        except (RecursionError, MemoryError):
            inspection.unreadable, reader = TOO_COMPLEX, None
        except Exception:  # noqa: BLE001 - see below
            inspection.unreadable, reader = DAMAGED, None
    try:
        _walk_raw(data, reader, inspection, budget)
        if reader is not None:
            _walk_table(reader, inspection, budget)
    except PdfUnreadable as error:
        inspection.unreadable = error.reason
    except FileNotDecryptedError:
        inspection.unreadable = PASSWORD
    except (RecursionError, MemoryError):
        inspection.unreadable = TOO_COMPLEX
    except Exception:  # noqa: BLE001 - a hostile file may break the parser in any way: it is then unreadable
        inspection.unreadable = inspection.unreadable or DAMAGED
    return inspection


def _walk_table(reader, inspection: PdfInspection, budget: _Budget) -> None:
    """Every object the newest revision's tables name, including those inside object streams."""
    from pypdf.generic import IndirectObject

    references = set(reader.xref_objStm)
    for generation, table in reader.xref.items():
        references.update((number, generation) for number in table)
    for reference in sorted(references, key=lambda item: item if isinstance(item, tuple) else (item, 0)):
        number, generation = reference if isinstance(reference, tuple) else (reference, 0)
        budget.spend(objects=1)
        try:
            obj = reader.get_object(IndirectObject(number, generation, reader))
        except Exception:  # noqa: BLE001, S112 - one broken object in a lenient parse; the raw walk reads its body
            continue
        _object_findings(obj, inspection, budget, depth=0)


def _object_findings(obj, inspection: PdfInspection, budget: _Budget, *, depth: int) -> None:
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

    if depth > 64:
        raise PdfUnreadable(TOO_COMPLEX)
    if isinstance(obj, NameObject):
        finding = ACTIVE_NAMES.get(obj.encode("utf-8", "surrogateescape")[1:])
        if finding:
            inspection.findings.add(finding)
    elif isinstance(obj, DictionaryObject):
        for key, value in obj.items():
            _object_findings(NameObject(key), inspection, budget, depth=depth + 1)
            if not hasattr(value, "idnum"):  # indirect references are visited on their own
                _object_findings(value, inspection, budget, depth=depth + 1)
        if isinstance(obj, StreamObject) and obj.get("/Type") == "/ObjStm":
            decoded = _decode(obj, budget)
            if decoded is not None:
                inspection.findings |= names_findings(decoded)
    elif isinstance(obj, ArrayObject):
        for value in obj:
            if not hasattr(value, "idnum"):
                _object_findings(value, inspection, budget, depth=depth + 1)


def _decode(stream, budget: _Budget) -> bytes | None:
    """A stream's bytes through every filter it names; None when a filter fails (the raw text is still read)."""
    from pypdf.filters import decode_stream_data

    try:
        decoded = decode_stream_data(stream)
    except Exception:  # noqa: BLE001 - damaged or unsupported data: judged by what can be read
        return None
    if isinstance(decoded, str):
        decoded = decoded.encode("latin-1", "replace")
    budget.spend(decoded=len(decoded))
    return decoded


def _walk_raw(data: bytes, reader, inspection: PdfInspection, budget: _Budget) -> None:
    """Every `N G obj` body in the file, whichever revision it belongs to: the names of its dictionary, and the
    objects inside it when it is an object stream. Positions are found once and looked up, so a file of many
    unterminated objects costs no more than a normal one."""
    inspection.findings |= names_findings(_outside_streams(data))
    headers = list(OBJECT_HEADER.finditer(data))
    budget.spend(objects=len(headers))
    header_starts = [header.start() for header in headers]
    streams = list(STREAM_START.finditer(data))
    stream_starts = [stream.start() for stream in streams]
    endobjs = [match.start() for match in ENDOBJ.finditer(data)]
    endstreams = list(ENDSTREAM.finditer(data))
    endstream_starts = [match.start() for match in endstreams]
    decoded_until = -1  # a header inside an object stream already decoded is only read as text
    for index, header in enumerate(headers):
        start = header.end()
        following = header_starts[index + 1] if index + 1 < len(headers) else len(data)
        end_at = min(_next(endobjs, start, len(data)), following)
        stream_index = bisect.bisect_left(stream_starts, start)
        stream = streams[stream_index] if stream_index < len(streams) else None
        if stream is None or stream.start() > end_at:
            inspection.findings |= names_findings(data[start:end_at])  # also inside a fake "stream" of another
            continue
        inspection.findings |= names_findings(data[start : stream.start()])
        end_index = bisect.bisect_left(endstream_starts, stream.end())
        if end_index >= len(endstreams) or header.start() < decoded_until:
            continue
        dictionary = _raw_dictionary(data[start : stream.start()], reader)
        if dictionary is None or not _holds_objects(dictionary):
            continue
        decoded_until = endstreams[end_index].end()
        body = data[stream.end() : endstreams[end_index].start()]
        decoded = _raw_stream_decode(dictionary, body, reader, header, budget)
        if decoded is not None:
            inspection.findings |= names_findings(decoded)


def _next(positions: list[int], after: int, default: int) -> int:
    index = bisect.bisect_left(positions, after)
    return positions[index] if index < len(positions) else default


def _holds_objects(dictionary) -> bool:
    """An object stream (/Type /ObjStm, or a stream with /N and /First, as lenient viewers accept): the only kind
    whose decoded bytes are PDF objects. Other streams (page contents, images, an embedded file, a script's text)
    matter only through the dictionaries that point at them, which are read as objects."""
    return dictionary.get("/Type") == "/ObjStm" or ("/First" in dictionary and "/N" in dictionary)


def _outside_streams(data: bytes) -> bytes:
    """The file's text with stream bodies left out (their bytes are read decoded instead)."""
    parts, position = [], 0
    while True:
        stream = STREAM_START.search(data, position)
        if stream is None:
            parts.append(data[position:])
            return b"\n".join(parts)
        parts.append(data[position : stream.start()])
        stream_end = ENDSTREAM.search(data, stream.end())
        if stream_end is None:
            return b"\n".join(parts)
        position = stream_end.end()


def _raw_dictionary(text: bytes, reader):
    from pypdf.generic import DictionaryObject, read_object

    try:
        obj = read_object(io.BytesIO(text.strip() + b"\n"), reader)
    except Exception:  # noqa: BLE001 - not a dictionary we can read: its names were read as text already
        return None
    return obj if isinstance(obj, DictionaryObject) else None


def _raw_stream_decode(dictionary, body: bytes, reader, header, budget: _Budget) -> bytes | None:
    """Decode a stream found in the raw bytes. The body runs to `endstream` (a /Length that lies is ignored);
    an encrypted file's stream is decrypted first with the object's own number."""
    from pypdf.generic import EncodedStreamObject, NameObject

    stream = EncodedStreamObject()
    for key, value in dictionary.items():
        if key != "/Length":
            try:
                stream[NameObject(key)] = value.get_object() if hasattr(value, "idnum") else value
            except Exception:  # noqa: BLE001 - a reference that leads nowhere (no parser, or a broken table)
                return None
    stream._data = body  # the encoded bytes as they are (set_data would encode them again)
    encryption = getattr(reader, "_encryption", None) if reader is not None else None
    if encryption is not None:
        try:
            stream = encryption.decrypt_object(stream, int(header.group(1)), int(header.group(2)))
        except Exception:  # noqa: BLE001 - an object of an older revision that does not decrypt
            return None
    return _decode(stream, budget)


# --- rendering --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Rendering:
    pages: list[RenderedPage]
    page_count: int


class RenderTimeout(Exception):  # noqa: N818
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """SIGALRM in the main thread (a Celery prefork worker, the management command). Python runs the handler
    between PDFium calls, so one page that never finishes drawing is ended by the task's hard time limit instead
    (the pool process is replaced, and the service gives the file up after a few attempts). Elsewhere (a test's
    eager task in a server thread) only the task's limits apply."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise RenderTimeout

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _pdfium_document(data: bytes, seconds: float) -> Iterator:
    """The PDF opened with PDFium for at most `seconds`: a password, a damaged file, a PDFium error while it is read
    and the time running out all become PdfUnreadable (PASSWORD, DAMAGED, TIMEOUT); the document is closed after."""
    import pypdfium2

    try:
        with _time_limit(seconds):
            try:
                document = pypdfium2.PdfDocument(data)
            except pypdfium2.PdfiumError as error:
                raise PdfUnreadable(PASSWORD if "password" in str(error).lower() else DAMAGED) from None
            try:
                yield document
            except pypdfium2.PdfiumError:
                raise PdfUnreadable(DAMAGED) from None
            finally:
                document.close()
    except RenderTimeout:
        raise PdfUnreadable(TIMEOUT) from None


def _text_pages(document, max_pages: int) -> Iterator:
    """(page, text page) for each of the first `max_pages` pages, each closed once the caller moves on."""
    for index in range(min(len(document), max_pages)):
        page = document[index]
        textpage = page.get_textpage()
        try:
            yield page, textpage
        finally:
            textpage.close()
            page.close()


def pdf_render(
    data: bytes, *, max_pages: int, dpi: int, max_side: int, max_pixels: int, max_png_bytes: int, seconds: float
) -> Rendering:
    """The first `max_pages` pages as PNG. A page is drawn at `dpi`, scaled down to fit `max_side` and
    `max_pixels`; a PNG over `max_png_bytes` is drawn again smaller. Raises PdfUnreadable (DAMAGED, PASSWORD,
    NO_PAGES, TIMEOUT) instead of crashing; the whole rendering stops after `seconds`."""
    from pypdfium2.version import PDFIUM_INFO

    if "V8" in PDFIUM_INFO.flags:  # a PDFium that could run a file's JavaScript draws nothing here
        raise RuntimeError("pypdfium2's PDFium has a JavaScript engine (V8); previews need a build without it")
    with _pdfium_document(data, seconds) as document:
        page_count = len(document)
        if page_count == 0:
            raise PdfUnreadable(NO_PAGES)
        pages = [
            _render_page(document, index, dpi, max_side, max_pixels, max_png_bytes)
            for index in range(min(page_count, max_pages))
        ]
    return Rendering(pages=pages, page_count=page_count)


def _render_page(document, index: int, dpi: int, max_side: int, max_pixels: int, max_png_bytes: int) -> RenderedPage:
    import pypdfium2

    try:
        page = document[index]
    except pypdfium2.PdfiumError:  # a page object the file names but that cannot be read
        raise PdfUnreadable(DAMAGED) from None
    try:
        width_pt, height_pt = page.get_size()
        if width_pt <= 0 or height_pt <= 0:
            raise PdfUnreadable(DAMAGED)
        scale = dpi / 72
        scale = min(scale, max_side / (width_pt * scale) * scale, max_side / (height_pt * scale) * scale)
        scale = min(scale, (max_pixels / (width_pt * height_pt)) ** 0.5)
        while True:
            try:
                bitmap = page.render(scale=scale, may_draw_forms=False, draw_annots=True)
            except pypdfium2.PdfiumError:
                raise PdfUnreadable(DAMAGED) from None
            image = bitmap.to_pil()
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG", optimize=True)
            if buffer.tell() <= max_png_bytes or scale < 0.2:
                return RenderedPage(png=buffer.getvalue(), width=image.width, height=image.height)
            scale *= 0.7
    finally:
        page.close()


@dataclass(frozen=True)
class PageText:
    """One page's text layer: `char_boxes[i]` is where `text[i]` stands, as (left, top, right, bottom) in points
    from the page's top-left corner as drawn (None for a character PDFium places nowhere, such as a line break it
    adds). `width` and `height` are the page's size in points; `rotation` its rotation in degrees."""

    text: str
    char_boxes: list[tuple[float, float, float, float] | None]
    width: float
    height: float
    rotation: int


def pdf_pages_text(data: bytes, *, max_pages: int, seconds: float) -> list[PageText]:
    """The text of the first `max_pages` pages with the position of each character (PDFium's text layer).
    Raises PdfUnreadable (DAMAGED, PASSWORD, TIMEOUT) as pdf_text does."""
    pages = []
    with _pdfium_document(data, seconds) as document:
        for page, textpage in _text_pages(document, max_pages):
            width, height = page.get_size()
            text = textpage.get_text_range()
            boxes = []
            for char_index in range(len(text)):
                left, bottom, right, top = textpage.get_charbox(char_index, loose=True)
                boxes.append((left, height - top, right, height - bottom) if right > left else None)
            pages.append(PageText(text, boxes, width, height, page.get_rotation()))
    return pages


def pdf_text(data: bytes, *, max_pages: int, seconds: float) -> str:
    """The text of the first `max_pages` pages, a page after another (PDFium's text layer: a scanned page without
    one gives nothing). Raises PdfUnreadable (DAMAGED, PASSWORD, TIMEOUT) as pdf_render does."""
    with _pdfium_document(data, seconds) as document:
        texts = [textpage.get_text_range() for _page, textpage in _text_pages(document, max_pages)]
    return "\n".join(texts).replace("\r\n", "\n").replace("\r", "\n")
