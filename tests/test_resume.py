"""Résumé text extraction: PDF, DOCX and TXT uploads, and a one-line ResumeError for each bad one."""

from __future__ import annotations

import zipfile

import docx
import pypdf
import pytest
from docx.oxml import parse_xml

from coverletter.resume import MAX_BYTES, MAX_UNPACKED_BYTES, ResumeError, resume_text

TEXT_LINE = "Jane Doe - Python, SQL"


def text_pdf(line: str = TEXT_LINE) -> bytes:
    """A minimal valid one-page PDF that shows `line` in Helvetica, with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


def written(writer: pypdf.PdfWriter, path):
    with open(path, "wb") as file:
        writer.write(file)
    return path


def written_pdf(tmp_path):
    path = tmp_path / "source.pdf"
    path.write_bytes(text_pdf())
    return path


@pytest.fixture
def docx_path(tmp_path):
    document = docx.Document()
    document.add_paragraph("Jane Doe, data engineer")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Skills"
    table.cell(0, 1).text = "Python, SQL"
    path = tmp_path / "resume.docx"
    document.save(path)
    return path


def test_pdf_text(tmp_path):
    path = tmp_path / "resume.pdf"
    path.write_bytes(text_pdf())
    text = resume_text(path)
    assert "Jane Doe" in text and "Python" in text


def test_pdf_extension_is_case_insensitive(tmp_path):
    path = tmp_path / "RESUME.PDF"
    path.write_bytes(text_pdf())
    assert "Jane Doe" in resume_text(path)


def test_pdf_with_empty_user_password_opens(tmp_path):
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(written_pdf(tmp_path)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    assert "Jane Doe" in resume_text(written(writer, tmp_path / "locked.pdf"))


def test_docx_paragraphs_and_tables(docx_path):
    text = resume_text(docx_path)
    assert "Jane Doe, data engineer" in text
    assert "Skills" in text and "Python, SQL" in text
    assert text.index("Jane Doe") < text.index("Skills")


def test_docx_merged_cells_come_once(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(1, 1)).text = "Experience"
    path = tmp_path / "merged.docx"
    document.save(path)
    assert resume_text(path) == "Experience"


# A text box as Word writes it: a drawing, and the same box again as VML for readers without drawings
TEXT_BOX_RUN = """<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
    xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
    xmlns:v="urn:schemas-microsoft-com:vml">
  <mc:AlternateContent>
    <mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx><w:txbxContent>
      <w:p><w:r><w:t>Experience: five years of Go</w:t></w:r></w:p><w:p><w:r><w:t>Kafka</w:t></w:r></w:p>
    </w:txbxContent></wps:txbx></wps:wsp></w:drawing></mc:Choice>
    <mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>
      <w:p><w:r><w:t>Experience: five years of Go</w:t></w:r></w:p><w:p><w:r><w:t>Kafka</w:t></w:r></w:p>
    </w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>
  </mc:AlternateContent>
</w:r>"""


def test_docx_text_boxes_come_once_in_place(tmp_path):
    document = docx.Document()
    document.add_paragraph("Jane Doe")._p.append(parse_xml(TEXT_BOX_RUN))
    document.add_paragraph("References on request")
    path = tmp_path / "boxes.docx"
    document.save(path)
    assert resume_text(path) == "Jane Doe\nExperience: five years of Go\nKafka\nReferences on request"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_txt_encodings(tmp_path, encoding):
    path = tmp_path / "resume.txt"
    path.write_bytes("Zoë Müller\r\nPython, SQL  \r\n\r\n\r\n\r\nCafé\x07 owner\n".encode(encoding))
    assert resume_text(path) == "Zoë Müller\nPython, SQL\n\nCafé owner"


def test_text_is_nfc(tmp_path):
    path = tmp_path / "resume.txt"
    path.write_text("Cafe\u0301", encoding="utf-8")
    assert resume_text(path) == "Caf\u00e9"


def encrypted_pdf(tmp_path):
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(written_pdf(tmp_path)))
    # RC4 needs no `cryptography` package, which the app does not depend on
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    return written(writer, tmp_path / "resume.pdf")


def scanned_pdf(tmp_path):
    writer = pypdf.PdfWriter()
    writer.add_blank_page(612, 792)
    return written(writer, tmp_path / "resume.pdf")


def file_with(name: str, data: bytes):
    def make(tmp_path):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return make


def zip_with_text(tmp_path):
    path = tmp_path / "resume.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("resume.txt", "Jane Doe")
    return path


def docx_named(name: str):
    def make(tmp_path):
        document = docx.Document()
        document.add_paragraph("Jane Doe")
        path = tmp_path / name
        document.save(path)
        return path

    return make


def docx_bomb(tmp_path):
    """A small .docx that would inflate past the limit: zeros compress about a thousandfold."""
    path = docx_named("resume.docx")(tmp_path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", bytes(MAX_UNPACKED_BYTES))
    assert path.stat().st_size < MAX_BYTES
    return path


BAD_INPUTS = {
    "over the limit": (file_with("resume.txt", b"a" * (MAX_BYTES + 1)), "limit"),
    "wrong extension": (file_with("resume.png", b"\x89PNG\r\n\x1a\n"), r"\.pdf, \.docx or \.txt"),
    "pdf that is a docx": (docx_named("resume.pdf"), "not really a PDF"),
    "pdf that is text": (file_with("resume.pdf", b"Jane Doe, Python"), "not really a PDF"),
    "docx that is text": (file_with("resume.docx", b"Jane Doe, Python"), r"not really a Word"),
    "txt that is a pdf": (file_with("resume.txt", text_pdf()), "not really a plain-text"),
    "txt that is binary": (file_with("resume.txt", b"\x89PNG\r\n\x1a\n\x00\x00"), "not really a plain-text"),
    "zip that is not word": (zip_with_text, "not a Word document"),
    "docx that unpacks too far": (docx_bomb, r"unpacks to \d+ MB, over the 50 MB limit"),
    "encrypted pdf": (encrypted_pdf, "password-protected"),
    "scanned pdf": (scanned_pdf, "scanned"),
    "latin-1 txt": (file_with("resume.txt", b"caf\xe9"), "UTF-8"),
    "corrupt pdf": (file_with("resume.pdf", b"%PDF-1.4\ngarbage"), "damaged"),
    "corrupt docx": (file_with("resume.docx", b"PK\x03\x04garbage"), "damaged"),
    "empty txt": (file_with("resume.txt", b""), "no text"),
    "blank txt": (file_with("resume.txt", b" \r\n\t\n"), "no text"),
}


@pytest.mark.parametrize("make, match", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_raises_one_line(tmp_path, make, match):
    with pytest.raises(ResumeError, match=match) as caught:
        resume_text(make(tmp_path))
    assert "\n" not in str(caught.value)
