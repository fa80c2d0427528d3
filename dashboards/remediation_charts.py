"""The Remediation dashboard's charts, drawn from its figures (dashboards.remediation)."""

from __future__ import annotations

from django.utils.translation import gettext

from dashboards import charts, remediation


def noticing_charts(noticing: remediation.Noticing) -> dict:
    ways = noticing.channels[:-1]  # the chart compares the ways; the table adds all
    return {
        "noticed": charts.bar_chart(
            title=gettext("Hours from posted to noticed, by how it was noticed"),
            # "Colleague report" is too long for the axis; the table beside it says it.
            labels=[channel.short_label for channel in ways],
            series=[
                charts.Series(
                    name,
                    [getattr(channel, value) for channel in ways],
                    [channel.measured_link for channel in ways],
                )
                for name, value in (
                    (gettext("Median"), "median_hours"),
                    (gettext("90th percentile"), "p90_hours"),
                )
            ],
            unit=" h",
        ),
        "noticed_trend": charts.line_chart(
            title=gettext("Median hours from posted to noticed, by quarter and how it was noticed"),
            labels=[row.label for row in noticing.quarters],
            series=[
                charts.Series(
                    channel.label,
                    [row.channels[i].median_hours for row in noticing.quarters],
                    [row.channels[i].measured_link for row in noticing.quarters],
                )
                for i, channel in enumerate(noticing.channels)
            ],
            unit=" h",
        ),
    }


def page_charts(open_now, timings, columns, mix, stretches) -> dict:
    labels = [remediation.short_month_label(row.month) for row in timings]
    return {
        "status": charts.bar_chart(
            title=gettext("Open incidents by state"),
            labels=[t.label for t in open_now.by_status],
            series=[
                charts.Series(
                    gettext("Open incidents"),
                    [t.count for t in open_now.by_status],
                    [t.link for t in open_now.by_status],
                )
            ],
        ),
        "contain": timing_chart(
            gettext("Median hours from noticed to contained, by month"),
            gettext("Hours to contain"),
            labels,
            [(row.contain_hours, row.contained_link) for row in timings],
            " h",
        ),
        "close": timing_chart(
            gettext("Median days from noticed to closed, by month"),
            gettext("Days to close"),
            labels,
            [(row.close_days, row.closed_link) for row in timings],
            " d",
        ),
        "mix": charts.bar_chart(
            title=gettext("Classification by quarter"),
            labels=[row.label for row in mix],
            series=[
                charts.Series(
                    label, [row.cells[i][0] for row in mix], [row.cells[i][1] for row in mix]
                )
                for i, (_, label) in enumerate(columns)
            ],
            stacked=True,
        ),
        "exposure": charts.span_chart(
            title=gettext("The exposure window: median hours of each stretch"),
            stretches=[(s.name, s.median_hours) for s in stretches],
            unit=" h",
        ),
    }


def timing_chart(title: str, name: str, labels, points, unit: str):
    """A line of monthly medians, each point linking to the month's incidents."""
    values, links = zip(*points, strict=True) if points else ((), ())
    return charts.line_chart(
        title=title, labels=labels, series=[charts.Series(name, values, links)], unit=unit
    )
