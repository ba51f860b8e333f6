"""PDFs written by hand for the upload check and the browser test: one page that says "Hello", plus active content
in every structure a PDF allows (plain objects, object streams, cross-reference streams, incremental updates) and
every standard filter (alone and chained). The offsets are real, so pypdf, PDFium and Chromium read them as PDFs."""

import base64
import io
import zlib
from dataclasses import dataclass

from pypdf import PdfWriter
from pypdf._codecs._codecs import LzwCodec

# The script would show a dialog in any PDF viewer that runs it: Acrobat's app.alert and the browser's alert.
SCRIPT = b"app.alert('pdf-script-ran'); if (typeof alert === 'function') { alert('pdf-script-ran'); }"


def _literal(text: bytes) -> bytes:
    return b"(" + text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _run_length(data: bytes) -> bytes:
    """RunLengthDecode's encoding, literal runs only (valid, if not small)."""
    out = bytearray()
    for start in range(0, len(data), 128):
        chunk = data[start : start + 128]
        out.append(len(chunk) - 1)
        out += chunk
    out.append(128)
    return bytes(out)


ENCODERS = {
    "FlateDecode": zlib.compress,
    "ASCIIHexDecode": lambda data: data.hex().upper().encode() + b">",
    "ASCII85Decode": lambda data: base64.a85encode(data) + b"~>",
    "LZWDecode": lambda data: LzwCodec().encode(data),
    "RunLengthDecode": _run_length,
}


def encode(data: bytes, filters: list[str]) -> tuple[bytes, bytes]:
    """Data encoded so that decoding with `filters` in order gives it back, and the /Filter entry for it."""
    for name in reversed(filters):
        data = ENCODERS[name](data)
    if not filters:
        return data, b""
    names = b" ".join(b"/" + name.encode() for name in filters)
    return data, b"/Filter [" + names + b"]" if len(filters) > 1 else b"/Filter " + names


@dataclass
class Stream:
    dictionary: bytes  # without << >> and /Length
    data: bytes
    filters: tuple[str, ...] = ()

    def body(self) -> bytes:
        encoded, filter_entry = encode(self.data, list(self.filters))
        return (
            b"<< "
            + self.dictionary
            + b" "
            + filter_entry
            + b" /Length %d >>\nstream\n" % len(encoded)
            + encoded
            + b"\nendstream"
        )


def base_objects() -> dict[int, bytes | Stream]:
    content = b"BT /F1 24 Tf 20 100 Td (Hello) Tj ET"
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        4: Stream(b"", content, ("FlateDecode",)),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }


def _body(value: bytes | Stream) -> bytes:
    return value.body() if isinstance(value, Stream) else value


def write_table(objects: dict[int, bytes | Stream], *, root: int = 1) -> bytes:
    """Plain objects and a classic cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + _body(objects[number]) + b"\nendobj\n"
    size = max(objects) + 1
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref_at)
    return bytes(out)


def write_compressed(
    objects: dict[int, bytes | Stream],
    *,
    root: int = 1,
    objstm_filters: tuple[str, ...] = ("FlateDecode",),
    use_object_stream: bool = True,
) -> bytes:
    """PDF 1.5 layout: objects that are not streams go in one object stream (encoded with `objstm_filters`), and
    the cross-reference table is itself a stream."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    entries: dict[int, tuple[int, int, int]] = {}
    packed = sorted(n for n, v in objects.items() if use_object_stream and not isinstance(v, Stream))
    for number in sorted(objects):
        if number in packed:
            continue
        entries[number] = (1, len(out), 0)
        out += b"%d 0 obj\n" % number + _body(objects[number]) + b"\nendobj\n"
    next_number = max(objects) + 1
    if packed:
        objstm_number, next_number = next_number, next_number + 1
        header, bodies = [], bytearray()
        for index, number in enumerate(packed):
            header.append(b"%d %d" % (number, len(bodies)))
            bodies += objects[number] + b"\n"
            entries[number] = (2, objstm_number, index)
        head = b" ".join(header) + b"\n"
        stream = Stream(b"/Type /ObjStm /N %d /First %d" % (len(packed), len(head)), head + bytes(bodies))
        stream.filters = objstm_filters
        entries[objstm_number] = (1, len(out), 0)
        out += b"%d 0 obj\n" % objstm_number + stream.body() + b"\nendobj\n"
    xref_number = next_number
    entries[xref_number] = (1, len(out), 0)
    size = xref_number + 1
    rows = bytearray()
    for number in range(size):
        kind, field2, field3 = entries.get(number, (0, 0, 65535 if number == 0 else 0))
        rows += bytes([kind]) + field2.to_bytes(4, "big") + field3.to_bytes(2, "big")
    xref = Stream(b"/Type /XRef /Size %d /W [1 4 2] /Root %d 0 R" % (size, root), bytes(rows), ("FlateDecode",))
    xref_at = entries[xref_number][1]
    out += b"%d 0 obj\n" % xref_number + xref.body() + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def append_update(base: bytes, objects: dict[int, bytes | Stream], *, root: int = 1) -> bytes:
    """An incremental update: new versions of `objects` appended with their own table and /Prev."""
    previous = int(base.rsplit(b"startxref", 1)[1].split()[0])
    size = int(base.split(b"/Size", 1)[1].split()[0]) if b"/Size" in base else max(objects) + 1
    size = max(size, max(objects) + 1)
    out = bytearray(base)
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + _body(objects[number]) + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for number in sorted(objects):
        out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        previous,
        xref_at,
    )
    return bytes(out)


# --- the active content --------------------------------------------------------------------------------------------

JS_ACTION = b"<< /Type /Action /S /JavaScript /JS " + _literal(SCRIPT) + b" >>"
CATALOG_OPEN_ACTION = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>"


def with_open_action(action: bytes = JS_ACTION) -> dict[int, bytes | Stream]:
    objects = base_objects()
    objects[1] = CATALOG_OPEN_ACTION
    objects[6] = action
    return objects


def encrypted(objects: dict[int, bytes | Stream], *, algorithm: str, user_password: str = "") -> bytes:
    """Protected against editing only (opens without a password, as bank statements often are), or with one."""
    writer = PdfWriter(clone_from=io.BytesIO(write_table(objects)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)  # noqa: S106
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def corpus_refused() -> dict[str, bytes]:
    """Script-bearing and program-launching PDFs, by name: each must be refused as a script (or launch)."""
    pdfs: dict[str, bytes] = {}
    pdfs["open_action_plain"] = write_table(with_open_action())
    # The script in a stream of its own, compressed.
    objects = base_objects()
    objects[1] = CATALOG_OPEN_ACTION
    objects[6] = b"<< /Type /Action /S /JavaScript /JS 7 0 R >>"
    objects[7] = Stream(b"", SCRIPT, ("FlateDecode",))
    pdfs["script_in_compressed_stream"] = write_table(objects)
    # The reported file: /OpenAction JavaScript inside an object stream encoded with /ASCIIHexDecode.
    for filters in (
        ("FlateDecode",),
        ("ASCIIHexDecode",),
        ("ASCII85Decode",),
        ("LZWDecode",),
        ("RunLengthDecode",),
        ("ASCIIHexDecode", "FlateDecode"),
        ("ASCII85Decode", "LZWDecode"),
        ("ASCII85Decode", "FlateDecode", "RunLengthDecode"),
    ):
        name = "objstm_" + "_".join(f.removesuffix("Decode").lower() for f in filters)
        pdfs[name] = write_compressed(with_open_action(), objstm_filters=filters)
    pdfs["xref_stream_no_objstm"] = write_compressed(with_open_action(), use_object_stream=False)
    # /AA on the page: runs when the page opens.
    objects = base_objects()
    objects[3] = objects[3].replace(b"/Contents", b"/AA << /O 6 0 R >> /Contents")
    objects[6] = JS_ACTION
    pdfs["page_additional_action"] = write_compressed(objects, objstm_filters=("ASCIIHexDecode",))
    # The document's JavaScript names tree.
    objects = base_objects()
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 7 0 R >> >>"
    objects[6] = JS_ACTION
    objects[7] = b"<< /Names [(init) 6 0 R] >>"
    pdfs["names_tree_javascript"] = write_compressed(objects, objstm_filters=("ASCII85Decode",))
    # Names written with #xx escapes: /J#61vaScript is /JavaScript, /#4As is /JS.
    hex_action = b"<< /Type /Action /S /J#61vaScript /#4AS " + _literal(SCRIPT) + b" >>"
    pdfs["hex_escaped_names"] = write_table(with_open_action(hex_action))
    pdfs["hex_escaped_names_in_lzw_objstm"] = write_compressed(
        with_open_action(hex_action), objstm_filters=("LZWDecode",)
    )
    # An incremental update adds the script to a clean file.
    clean = write_table(base_objects())
    pdfs["incremental_update_adds_script"] = append_update(clean, {1: CATALOG_OPEN_ACTION, 6: JS_ACTION})
    # ... and one that removes it again: the newest revision is clean, an older one (still in the file) is not.
    scripted = write_table(with_open_action())
    pdfs["incremental_update_hides_script"] = append_update(scripted, {1: b"<< /Type /Catalog /Pages 2 0 R >>"})
    # The same with the old script inside an /ASCIIHexDecode object stream that no table points to any more.
    scripted = write_compressed(with_open_action(), objstm_filters=("ASCIIHexDecode",))
    pdfs["incremental_update_hides_objstm_script"] = append_update(scripted, {1: b"<< /Type /Catalog /Pages 2 0 R >>"})
    pdfs["encrypted_empty_password_rc4"] = encrypted(with_open_action(), algorithm="RC4-128")
    pdfs["encrypted_empty_password_aes"] = encrypted(with_open_action(), algorithm="AES-256")
    pdfs["launch_action"] = write_table(
        with_open_action(b"<< /Type /Action /S /Launch /F (calc.exe) /Win << /F (cmd.exe) >> >>")
    )
    return pdfs


def corpus_flagged() -> dict[str, tuple[bytes, str]]:
    """PDFs with forms that send data or files inside them: accepted, flagged for staff with the finding."""
    pdfs: dict[str, tuple[bytes, str]] = {}
    objects = base_objects()
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 6 0 R >> >>"
    objects[6] = b"<< /Names [(a.txt) 7 0 R] >>"
    objects[7] = b"<< /Type /Filespec /F (a.txt) /EF << /F 8 0 R >> >>"
    objects[8] = Stream(b"/Type /EmbeddedFile", b"attached text", ("FlateDecode",))
    pdfs["embedded_file"] = (
        write_compressed(objects, objstm_filters=("ASCIIHexDecode", "FlateDecode")),
        "embedded_file",
    )
    objects = base_objects()
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 6 0 R >> >>"
    objects[6] = Stream(b"", b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>", ("FlateDecode",))
    pdfs["xfa_form"] = (write_table(objects), "xfa")
    objects = base_objects()
    objects[3] = objects[3].replace(b"/Contents", b"/Annots [6 0 R] /Contents")
    objects[6] = (
        b"<< /Type /Annot /Subtype /Widget /Rect [0 0 50 20] /FT /Btn /T (send)"
        b" /A << /S /SubmitF#6Frm /F (https://example.invalid/collect) >> >>"
    )
    pdfs["submit_form"] = (write_compressed(objects, objstm_filters=("RunLengthDecode",)), "submit_form")
    return pdfs


def password_protected() -> bytes:
    return encrypted(base_objects(), algorithm="AES-128", user_password="1234")  # noqa: S106


def clean_pdf() -> bytes:
    return write_compressed(base_objects(), objstm_filters=("FlateDecode",))
