"""CSV exports: streamed, UTF-8 for spreadsheets, and safe against formula injection."""

import csv
from collections.abc import Iterable

from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """Text a spreadsheet shows as text: a cell starting like a formula gets a quote first.
    Numbers and dates are left as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
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
