"""The layout every PolicyHub PDF shares: a header naming the document, a footer with its
document id, when it was issued, where to check it and the page number; headings,
paragraphs, label–value facts and tables that break across pages with their header row
repeated.

Text is set in DejaVu Sans (static/vendor/fonts/, with its licence), embedded, so that
names with accents, “quotes” and € print as typed. A character the fonts do not have is
never dropped: it is printed as its code point, [U+4E2D], so that the reader sees
something was there and what.

A document's words and dates are in the language active while it is built (evidence.services
builds each under the requester's language), and the document says which language it is in.

A document is deterministic: the same content, language, document id, issue time and address
give the same bytes (the PDF's creation date is the issue time, and fpdf2 derives the file
identifier from the content), which the tests rely on.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path

from django.conf import settings
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

# fontTools reports every glyph it keeps when fpdf2 subsets a font: not news.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIR = Path(settings.BASE_DIR) / "static" / "vendor" / "fonts"
FONTS = {
    ("sans", ""): "DejaVuSans-2.37.ttf",
    ("sans", "B"): "DejaVuSans-Bold-2.37.ttf",
    ("mono", ""): "DejaVuSansMono-2.37.ttf",
}
# The footer's "of N": substituted when the document is finished. It is switched on only
# while the footer is written, so that no text a person typed is ever taken for it.
PAGE_COUNT = "{nb}"

MARGIN = 15  # mm
LINE = 4.6  # mm, body text at 9.5 pt
GREY = (90, 90, 90)
RULE = (190, 190, 190)
SHADE = (236, 239, 243)


@dataclass(frozen=True)
class Stamp:
    """What identifies one issued document: printed on every page."""

    reference: str  # the document id, e.g. EV-7K2M-P9QD-41XA
    issued_at: datetime  # aware, whole seconds: also the PDF's creation date
    verify_url: str  # where anyone can check the file
    tz: tzinfo  # the time zone its times are shown in

    def local(self, moment: datetime | None) -> str:
        return when(moment, self.tz)


def when(moment: datetime | None, tz: tzinfo) -> str:
    """A moment as the document's language writes it, month named: 3 March 2025, 14:05:09."""
    if moment is None:
        return "—"
    # Translators: a date and time in a PDF, in Django's date format syntax
    # (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date): j day, F month
    # name, Y year, H:i:s time. German "j. F Y, H:i:s", French "j F Y, H:i:s".
    return dateformat.format(timezone.localtime(moment, tz), pgettext("PDF", "j F Y, H:i:s"))


def short_when(moment: datetime | None, tz: tzinfo) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment, tz).strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    # Translators: a date in a PDF, in Django's date format syntax: j day, F month name,
    # Y year. German "j. F Y", French "j F Y".
    return dateformat.format(value, pgettext("PDF", "j F Y")) if value else "—"


def short_day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def tz_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)


@functools.cache
def _covered(file_name: str) -> frozenset[int]:
    """The characters a font file has glyphs for."""
    font = TTFont(FONT_DIR / file_name, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: object, font: str = "sans") -> str:
    """`text` as the font can print it: characters it lacks (and control characters)
    become their code point in brackets rather than vanishing."""
    text = unicodedata.normalize("NFC", "" if text is None else str(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    covered = _covered(FONTS[(font, "")])
    if all(ord(char) in covered or char == "\n" for char in text) and not _CONTROL.search(text):
        return text
    return "".join(
        char
        if char == "\n" or (ord(char) in covered and not _CONTROL.match(char))
        else f"[U+{ord(char):04X}]"
        for char in text
    )


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # mm
    mono: bool = False
    size: float = 8


class EvidencePDF(FPDF):
    """An A4 document with PolicyHub's header and footer on every page."""

    def __init__(self, *, kind: str, title: str, stamp: Stamp):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.kind, self.document_title, self.stamp = kind, title, stamp
        for (family, style), file_name in FONTS.items():
            self.add_font(family, style, FONT_DIR / file_name)
        self.set_margins(MARGIN, MARGIN + 6, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 6)
        self.alias_nb_pages(None)
        self.set_creation_date(stamp.issued_at)
        self.set_title(printable(title))
        self.set_author("PolicyHub")
        self.set_creator("PolicyHub")
        self.set_subject(
            _("%(kind)s · PolicyHub document %(reference)s")
            % {"kind": kind, "reference": stamp.reference}
        )
        # The id in plain ASCII in the document information, where a checker finds it
        # even in a file that was changed (page text is compressed and glyph-coded): never
        # translated, whatever the document's language (evidence.forms looks for it).
        self.set_keywords(f"PolicyHub document {stamp.reference}")
        self.set_lang(translation.get_language() or settings.LANGUAGE_CODE)
        self.add_page()

    # --- every page ----------------------------------------------------------------

    def header(self):
        self.set_y(MARGIN - 4)
        self.set_text_color(*GREY)
        self.set_font("sans", "", 7.5)
        self.cell(self.epw / 2, 4, printable(f"PolicyHub · {self.kind}"))
        self.cell(
            self.epw / 2,
            4,
            printable(_("Document %(reference)s") % {"reference": self.stamp.reference}),
            align="R",
        )
        self.set_draw_color(*RULE)
        self.line(MARGIN, MARGIN + 1, self.w - MARGIN, MARGIN + 1)
        self.set_text_color(0, 0, 0)
        self.set_xy(MARGIN, MARGIN + 6)

    def footer(self):
        self.set_y(-MARGIN - 2)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() - 1, self.w - MARGIN, self.get_y() - 1)
        self.set_text_color(*GREY)
        self.set_font("sans", "", 7)
        stamp = self.stamp
        lines = [
            _("Document %(reference)s, issued %(when)s (%(time_zone)s).")
            % {
                "reference": stamp.reference,
                "when": stamp.local(stamp.issued_at),
                "time_zone": tz_name(stamp.tz),
            },
            _("Check it at %(url)s") % {"url": stamp.verify_url},
        ]
        top = self.get_y()
        for line in lines:
            self.cell(self.epw - 25, 3.2, printable(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_xy(self.w - MARGIN - 22, top)
        alias, self.str_alias_nb_pages = self.str_alias_nb_pages, PAGE_COUNT
        # Left-aligned: fpdf2 keeps room for a three-digit count, filled from the left.
        self.cell(
            25,
            3.2,
            printable(_("Page %(n)s of %(m)s") % {"n": self.page_no(), "m": PAGE_COUNT}),
        )
        self.str_alias_nb_pages = alias
        self.set_text_color(0, 0, 0)

    # --- blocks ----------------------------------------------------------------------

    def title_block(self, title: str, subtitle: str = "") -> None:
        self.set_font("sans", "B", 16)
        self.multi_cell(0, 7.5, printable(title), align="L", new_x=XPos.LMARGIN)
        if subtitle:
            self.set_font("sans", "", 9.5)
            self.set_text_color(*GREY)
            self.multi_cell(0, LINE, printable(subtitle), align="L", new_x=XPos.LMARGIN)
            self.set_text_color(0, 0, 0)
        self.ln(3)

    def heading(self, text: str, *, level: int = 1) -> None:
        # A heading never ends a page alone: it moves on with what follows it (a few lines,
        # or a table's header and first row).
        if self.will_page_break(34):
            self.add_page()
        self.ln(3 if level == 1 else 1.5)
        self.set_font("sans", "B", 12.5 if level == 1 else 10.5)
        self.multi_cell(0, 6 if level == 1 else 5, printable(text), align="L", new_x=XPos.LMARGIN)
        self.ln(1)

    def paragraph(self, text: str, *, size: float = 9.5, mono: bool = False, grey=False) -> None:
        family = "mono" if mono else "sans"
        self.set_font(family, "", size)
        if grey:
            self.set_text_color(*GREY)
        self.multi_cell(
            0, size * 0.48, printable(text, family) or " ", align="L", new_x=XPos.LMARGIN
        )
        self.set_text_color(0, 0, 0)
        self.ln(1.5)

    def facts(self, rows: Iterable[tuple[str, object] | tuple[str, object, bool]]) -> None:
        """Label–value pairs; a third item True sets the value in monospace (hashes)."""
        label_width = 52
        for row in rows:
            label, value = row[0], row[1]
            mono = len(row) > 2 and row[2]
            family = "mono" if mono else "sans"
            value = printable("—" if value in (None, "") else value, family)
            self.set_font(family, "", 8.5 if mono else 9.5)
            lines = self._lines(self.epw - label_width, value)
            if self.will_page_break(len(lines) * LINE):
                self.add_page()
            top = self.get_y()
            self.set_font("sans", "B", 9.5)
            self.multi_cell(label_width, LINE, printable(label), align="L")
            bottom = self.get_y()
            self.set_xy(MARGIN + label_width, top)
            self.set_font(family, "", 8.5 if mono else 9.5)
            self.multi_cell(self.epw - label_width, LINE, value, align="L", new_x=XPos.LMARGIN)
            self.set_y(max(bottom, self.get_y()) + 0.8)
        self.ln(1.5)

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence[object]]) -> int:
        """A table with wrapped cells, its header row repeated on every page it spans and
        never left alone at the foot of a page. `rows` may be a generator: rows are drawn
        as they come. Returns the row count."""
        padding = 1
        headers, header_height = self._table_headers(columns)
        line_height = max(column.size for column in columns) * 0.45
        count = 0
        for row in rows:
            cells = []
            for column, value in zip(columns, row, strict=True):
                family = "mono" if column.mono else "sans"
                text = printable("" if value is None else value, family)
                self._plain_font(family, column.size)
                cells.append((text, self._lines(column.width - 2 * padding, text)))
            height = max(len(lines) for _, lines in cells) * line_height + 2 * padding
            if header_height + height > self.page_break_trigger - self.t_margin - 8:
                if not count:
                    self._draw_table_header(columns, headers, header_height)
                self._long_row(columns, cells)
                count += 1
                continue
            if not count or self.will_page_break(height):
                if self.will_page_break(header_height + height):
                    self.add_page()
                self._draw_table_header(columns, headers, header_height)
            count += 1
            top, x = self.get_y(), MARGIN
            self.set_draw_color(*RULE)
            for column, (_text, lines) in zip(columns, cells, strict=True):
                self.rect(x, top, column.width, height)
                self._plain_font("mono" if column.mono else "sans", column.size)
                # text() places a line at its baseline without cell()'s layout work:
                # an evidence pack draws tens of thousands of these.
                baseline = top + padding + (line_height + 0.7 * self.font_size) / 2
                for line in lines:
                    if line:
                        self.text(x + padding, baseline, line)
                    baseline += line_height
                x += column.width
            self.set_xy(MARGIN, top + height)
        if not count:
            self.set_font("sans", "", 9)
            self.cell(0, LINE + 1, printable(_("None.")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)
        return count

    # --- helpers ----------------------------------------------------------------------

    def _plain_font(self, family: str, size: float) -> None:
        """set_font, skipped when nothing changes: a table row sets fonts cell by cell."""
        if (self.font_family, self.font_style, self.font_size_pt) != (family, "", size):
            self.set_font(family, "", size)

    def _lines(self, width: float, text: str) -> list[str]:
        """`text` wrapped at spaces to `width` mm in the current font; a word longer than
        the width is cut. (fpdf2's own dry-run wrapping is exact too, but far slower for
        the tens of thousands of cells of an evidence pack.)"""
        widths, scale = self.current_font.cw, self.font_size_pt * 0.001 / self.k

        def measure(piece: str) -> float:
            return sum(widths[ord(char)] for char in piece) * scale

        space = measure(" ")

        def cut(word: str) -> list[str]:
            """A word wider than the line, in pieces that fit (the last may be short)."""
            pieces, piece, piece_width = [], "", 0.0
            for char in word:
                char_width = measure(char)
                if piece and piece_width + char_width > width:
                    pieces.append(piece)
                    piece, piece_width = "", 0.0
                piece, piece_width = piece + char, piece_width + char_width
            return [*pieces, piece]

        lines: list[str] = []
        for paragraph in text.split("\n"):
            line, line_width = None, 0.0
            for word in paragraph.split(" "):
                word_width = measure(word)
                if line is not None and line_width + space + word_width <= width:
                    line, line_width = f"{line} {word}", line_width + space + word_width
                    continue
                if line is not None:
                    lines.append(line)
                if word_width > width:
                    *full, word = cut(word)
                    lines.extend(full)
                    word_width = measure(word)
                line, line_width = word, word_width
            lines.append(line or "")
        return lines or [""]

    def _table_headers(self, columns: Sequence[Column]) -> tuple[list[list[str]], float]:
        self.set_font("sans", "B", 8)
        headers = [self._lines(column.width - 2, printable(column.header)) for column in columns]
        return headers, 2 + 8 * 0.45 * max(len(lines) for lines in headers)

    def _draw_table_header(self, columns, headers, height: float) -> None:
        self.set_font("sans", "B", 8)
        line_height = 8 * 0.45
        top, x = self.get_y(), MARGIN
        self.set_fill_color(*SHADE)
        self.set_draw_color(*RULE)
        for column, lines in zip(columns, headers, strict=True):
            self.rect(x, top, column.width, height, style="DF")
            baseline = top + 1 + (line_height + 0.7 * self.font_size) / 2
            for line in lines:
                self.text(x + 1, baseline, line)
                baseline += line_height
            x += column.width
        self.set_xy(MARGIN, top + height)

    def _long_row(self, columns: Sequence[Column], cells) -> None:
        """A row taller than a page: its cells one after the other, label and text."""
        self.ln(1)
        for column, (text, _lines) in zip(columns, cells, strict=True):
            self.set_font("sans", "B", 8)
            self.multi_cell(0, LINE, printable(column.header), new_x=XPos.LMARGIN)
            self.set_font("mono" if column.mono else "sans", "", column.size)
            self.multi_cell(0, column.size * 0.45, text or "—", new_x=XPos.LMARGIN)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() + 1, self.w - MARGIN, self.get_y() + 1)
        self.ln(2)

    def finish(self) -> tuple[bytes, int]:
        """The document's bytes and its page count."""
        # On while the last footer is written and the pages are put together, so that
        # every footer's "of N" is filled in.
        self.str_alias_nb_pages = PAGE_COUNT
        return bytes(self.output()), self.pages_count
