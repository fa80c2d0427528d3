"""CSV exports: streamed, UTF-8 for spreadsheets, and safe against formula injection."""

import csv
import unicodedata
from collections.abc import Iterable

from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@")
# Some spreadsheets drop these at the start of a cell and read what follows.
CONTROL_STARTS = ("\t", "\r", "\n")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula: it starts with a tab, a
    carriage return or a line feed, or its first character after any whitespace is
    = + - @ or a form of one that spreadsheets normalise to it (full-width ＝ ＋ － ＠,
    the small forms: what NFKC turns into them)."""
    if text.startswith(CONTROL_STARTS):
        return True
    stripped = text.lstrip()
    return bool(stripped) and unicodedata.normalize("NFKC", stripped[0]).startswith(FORMULA_STARTS)


def csv_safe(value):
    """Text a spreadsheet shows as text: a cell that could be read as a formula gets a
    quote first. Numbers (negative ones too) and dates are left as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    *, header: list[str], rows: Iterable[list], filename: str
) -> StreamingHttpResponse:
    """Stream `rows` (lazily: pass a generator over an .iterator() queryset)."""
    writer = csv.writer(_Echo())
    # The rows are made after the view has returned, when the middleware has already
    # put back the default time zone: keep the reader's, as the page had it.
    zone = timezone.get_current_timezone()

    def lines():
        with timezone.override(zone):
            yield "\ufeff"  # so that spreadsheets read the file as UTF-8
            yield writer.writerow(header)
            for row in rows:
                yield writer.writerow([csv_safe(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_refused(problems: list[str], *, back: str) -> HttpResponseBadRequest:
    """The answer to an export whose link is not valid (an unknown filter value): the
    problems as plain text, never a file of something other than what was asked for.
    `back`: where to go instead, as a sentence."""
    return HttpResponseBadRequest(
        "\n".join([*problems, back]) + "\n", content_type="text/plain; charset=utf-8"
    )
