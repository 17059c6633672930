"""Résumé text for the app: read an uploaded PDF, DOCX or TXT file and tidy its text."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import pypdf
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf.errors import DependencyError, FileNotDecryptedError

from .errors import UserError

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # a .docx is a zip: 5 MB of it can inflate to gigabytes of XML
TEXT_BOX_PARAGRAPHS = ".//w:txbxContent[not(ancestor::*[local-name()='Fallback'])]/w:p"
ACCEPTED = ".pdf, .docx or .txt"
KINDS = {".pdf": "PDF", ".docx": "Word (.docx)", ".txt": "plain-text"}
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Unicode's Cc but tab and newline, which carry the layout


class ResumeError(UserError):
    """A résumé that cannot be read: one line saying what was wrong and what to do."""


def resume_text(path) -> str:
    """The text of the résumé at `path` (.pdf, .docx or .txt, at most MAX_BYTES), tidied for an editable field."""
    path = Path(path)
    suffix = path.suffix.lower()
    check_extension(path.name, suffix)
    check_size(path.name, path.stat().st_size)
    data = path.read_bytes()
    check_content(path.name, suffix, data)
    text = tidy(READERS[suffix](path.name, data))
    if not text:
        raise ResumeError(f"{path.name} holds no text: upload the file with your résumé, or paste its text instead.")
    return text


def check_extension(name: str, suffix: str) -> None:
    if suffix not in KINDS:
        raise ResumeError(f"{name} is not a résumé file this app can read: upload a {ACCEPTED} file.")


def check_size(name: str, size: int) -> None:
    if size > MAX_BYTES:
        raise ResumeError(
            f"{name} is {size / 2**20:.1f} MB, over the {MAX_BYTES / 2**20:.0f} MB limit: "
            "upload a smaller file (e.g. without images) or paste your résumé's text instead."
        )


def check_content(name: str, suffix: str, data: bytes) -> None:
    if content_kind(data) != suffix:
        raise ResumeError(
            f"{name} is not really a {KINDS[suffix]} file (its content does not match its name): "
            f"upload the original {ACCEPTED} file, or save your résumé again in one of those formats."
        )


def content_kind(data: bytes) -> str | None:
    """The extension the bytes deserve, whatever the file is called (None: none of the accepted kinds)."""
    if data.startswith(PDF_MAGIC):
        return ".pdf"
    if data.startswith(ZIP_MAGIC):
        return ".docx"
    # UTF-16 text is full of NUL bytes, so only its BOM tells it from binary data
    if data.startswith(UTF16_BOMS) or b"\x00" not in data:
        return ".txt"
    return None


def pdf_text(name: str, data: bytes) -> str:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")  # many PDFs are encrypted with an empty user password and open without one
        pages = [page.extract_text() or "" for page in reader.pages]
    # AES needs the optional `cryptography` package: to the user it is a file that will not open all the same
    except (FileNotDecryptedError, DependencyError) as err:
        raise ResumeError(
            f"{name} is password-protected: save an unprotected copy (or print it to a new PDF) and upload that."
        ) from err
    # pypdf raises many exception types besides PyPdfError on malformed files
    except Exception as err:
        raise ResumeError(damaged(name, "PDF")) from err
    if not "".join(pages).strip():
        raise ResumeError(
            f"{name} has no text to extract (it looks like a scanned image): "
            "paste your résumé's text instead, or upload it as a .docx or .txt file."
        )
    return "\n\n".join(pages)


def docx_text(name: str, data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            is_word = "word/document.xml" in archive.namelist()
            # zipfile never inflates a member past its declared size, so the declared sizes bound the memory
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as err:
        raise ResumeError(damaged(name, "Word (.docx)")) from err
    if not is_word:
        raise ResumeError(
            f"{name} is a zip archive but not a Word document: "
            "save your résumé as .docx (or .pdf, .txt) and upload that."
        )
    if unpacked > MAX_UNPACKED_BYTES:
        raise ResumeError(
            f"{name} unpacks to {unpacked / 2**20:.0f} MB, over the {MAX_UNPACKED_BYTES / 2**20:.0f} MB limit: "
            "save it again without embedded files or images, or paste your résumé's text instead."
        )
    try:
        document = docx.Document(io.BytesIO(data))
        return "\n".join(block_texts(document, set()))
    # python-docx lets zipfile, lxml and its own errors through on malformed files
    except Exception as err:
        raise ResumeError(damaged(name, "Word (.docx)")) from err


def block_texts(container, seen_cells: set) -> Iterator[str]:
    """The texts of a document's (or a table cell's) paragraphs, their text boxes and tables' cells, in document
    order."""
    for block in container.iter_inner_content():
        if isinstance(block, Table):
            yield from table_texts(block, seen_cells)
        else:
            yield block.text
            yield from text_box_texts(block)


def text_box_texts(paragraph) -> Iterator[str]:
    """Résumé templates put whole sections in text boxes, which python-docx's paragraph text leaves out. Word
    stores each box twice, as a drawing and as a VML fallback for old readers: only the first is read."""
    for box_paragraph in paragraph._p.xpath(TEXT_BOX_PARAGRAPHS):
        yield Paragraph(box_paragraph, paragraph).text


def table_texts(table: Table, seen_cells: set) -> Iterator[str]:
    for row in table.rows:
        for cell in row.cells:
            # merged cells come back once for each grid position they span
            if cell._tc not in seen_cells:
                seen_cells.add(cell._tc)
                yield from block_texts(cell, seen_cells)


def txt_text(name: str, data: bytes) -> str:
    # the BOM-aware codecs drop the BOM; plain "utf-16" needs one to know the byte order
    encoding = "utf-16" if data.startswith(UTF16_BOMS) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise ResumeError(
            f"{name} is not UTF-8 text: save it again with UTF-8 encoding and upload that."
        ) from err


def damaged(name: str, kind: str) -> str:
    return (
        f"{name} could not be read as a {kind} file (it looks damaged): "
        "open it and save or export it again, or paste your résumé's text instead."
    )


def tidy(text: str) -> str:
    """NFC text with `\\n` line ends, no control characters but newline and tab, no trailing spaces, and never two
    blank lines in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL_CHARS.sub("", text)
    text = re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


READERS = {".pdf": pdf_text, ".docx": docx_text, ".txt": txt_text}
