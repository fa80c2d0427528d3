from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from policyhub.exports import csv_response, csv_safe


def test_rows_are_made_in_the_time_zone_the_view_ran_in():
    moment = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)

    def rows():
        yield [timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")]

    with timezone.override("Asia/Tokyo"):
        response = csv_response(header=["When"], rows=rows(), filename="x.csv")
    # Streamed later, after the middleware has put the default zone back.
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines() == ["When", "2026-11-26 08:30"]


def test_cells_that_look_like_formulas_are_quoted():
    response = csv_response(
        header=["A"], rows=iter([["=1+1"], ["+x"], ["-y"], ["@z"], [-3]]), filename="x.csv"
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines() == ["A", "'=1+1", "'+x", "'-y", "'@z", "-3"]


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+x",
        "-y",
        "@z",
        "-1",  # text that looks like a number is still text: quoted
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "\nplain",  # a leading line feed, whatever follows
        '  =HYPERLINK("http://example.com")',
        " +x",
        "\u00a0@z",  # a no-break space
        "\u3000-y",  # an ideographic space
        "\uff1d1+1",  # full-width = + - @
        "\uff0bx",
        "\uff0dy",
        "\uff20z",
        "  \uff1dHYPERLINK(1)",
        "\ufe661+1",  # small equals sign
    ],
)
def test_text_a_spreadsheet_could_read_as_a_formula_is_quoted(text):
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["Emily Carter", "  indented", "a=b", "x-1", "", "  ", "Email: a@b.example"]
)
def test_plain_text_is_left_as_it_is(text):
    assert csv_safe(text) == text


@pytest.mark.parametrize(
    "value", [0, 3, -3, 2.5, -2.5, Decimal("-1.50"), Decimal("7"), date(2026, 1, 2)]
)
def test_numbers_and_dates_are_left_as_they_are(value):
    assert csv_safe(value) is value


def test_nothing_is_an_empty_cell():
    assert csv_safe(None) == ""


def test_negative_numbers_stay_numbers_in_the_file():
    response = csv_response(
        header=["A"], rows=iter([[-3], [Decimal("-1.5")], [-0.25], ["  =1"]]), filename="x.csv"
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines() == ["A", "-3", "-1.5", "-0.25", "'  =1"]
