from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from evidence.pdf import Column, EvidencePDF, Stamp, printable
from evidence.tests.conftest import pdf_info, pdf_pages, pdf_text

STAMP = Stamp(
    reference="EV-7K2M-P9QD-41XA",
    issued_at=datetime(2026, 3, 12, 13, 4, 5, tzinfo=UTC),
    verify_url="https://policyhub.example.com/evidence/verify/",
    tz=ZoneInfo("Europe/Berlin"),
)


def _document(build=None, stamp=STAMP) -> bytes:
    pdf = EvidencePDF(kind="Test document", title="A test “document”", stamp=stamp)
    pdf.title_block("A test document")
    if build:
        build(pdf)
    return pdf.finish()[0]


def test_names_with_accents_quotes_and_the_euro_sign_print_as_typed():
    text = pdf_text(
        _document(
            lambda pdf: (
                pdf.facts([("Who", "Zoë Ångström-Müller, François Ørsted, Łukasz Żółć")]),
                pdf.paragraph("She said “no” – it cost €1,200 ± 5%."),
                pdf.table([Column("Name", 60), Column("Hash", 120, mono=True)], [("Ñúñez", "é")]),
            )
        )
    )
    assert "Zoë Ångström-Müller, François Ørsted, Łukasz Żółć" in text
    assert "She said “no” – it cost €1,200 ± 5%." in text
    assert "Ñúñez" in text


def test_a_character_the_fonts_lack_is_printed_as_its_code_point_not_dropped():
    assert printable("Name 中文 ok") == "Name [U+4E2D][U+6587] ok"
    assert printable("bell\x07 tab\tend") == "bell[U+0007] tab    end"
    text = pdf_text(_document(lambda pdf: pdf.paragraph("Name 中文 ok")))
    assert "Name [U+4E2D][U+6587] ok" in text


def test_every_page_names_the_document_where_to_check_it_and_the_page_of_pages():
    rows = ((number, f"Person {number}") for number in range(400))
    pages = pdf_pages(_document(lambda pdf: pdf.table([Column("#", 20), Column("Name", 80)], rows)))

    assert len(pages) > 3
    for number, page in enumerate(pages, start=1):
        assert "PolicyHub · Test document Document EV-7K2M-P9QD-41XA" in page
        assert "Document EV-7K2M-P9QD-41XA, issued 12 March 2026, 14:04:05 (Europe/Berlin)." in (
            page
        )
        assert "Check it at https://policyhub.example.com/evidence/verify/" in page
        assert f"Page {number} of {len(pages)}" in page
        if number > 1:
            assert "# Name" in page  # the table's header row, repeated
    assert "Person 0 " in pages[0] and "Person 399" in pages[-1]


def test_the_document_information_names_the_document_id_in_plain_text():
    content = _document()
    info = pdf_info(content)

    assert info["/Keywords"] == "PolicyHub document EV-7K2M-P9QD-41XA"
    assert info["/Title"] == "A test “document”"
    assert b"PolicyHub document EV-7K2M-P9QD-41XA" in content


def test_the_same_content_and_stamp_give_the_same_bytes_and_another_id_does_not():
    def build(pdf):
        pdf.paragraph("Same text")

    other = Stamp(
        reference="EV-0000-0000-0001",
        issued_at=STAMP.issued_at,
        verify_url=STAMP.verify_url,
        tz=STAMP.tz,
    )
    assert _document(build) == _document(build)
    assert _document(build) != _document(build, stamp=other)


def test_long_words_and_rows_taller_than_a_page_are_wrapped_never_cut_off():
    word = "x" * 300
    note = "\n".join(f"Line {number} of a very long note." for number in range(120))
    text = pdf_text(
        _document(
            lambda pdf: pdf.table(
                [Column("What", 40), Column("Note", 140)], [(word, "short"), ("Long", note)]
            )
        )
    )
    assert word in text.replace(" ", "")
    assert "Line 0 of a very long note." in text and "Line 119 of a very long note." in text


def test_an_empty_table_says_none():
    text = pdf_text(_document(lambda pdf: pdf.table([Column("What", 40)], [])))
    assert "None." in text
