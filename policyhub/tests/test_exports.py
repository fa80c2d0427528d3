from datetime import UTC, datetime

from django.utils import timezone

from policyhub.exports import csv_response


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
