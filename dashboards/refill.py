"""The compliance dashboard's finished months counted ahead of any view (issue 14): by a
worker once a change has forgotten them, and after midnight for the month that has just
ended (dashboards.tasks), with the computation the page itself uses."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from dashboards import compliance, compliance_trend, summaries


def fill(*, now: datetime | None = None) -> int:
    """Count and keep the finished months that are not kept (every kind: for everyone,
    and the acknowledgements of the people who have left; no filters), exactly as the
    dashboard's first view would, so that no view pays for
    them: run by a worker (dashboards.tasks) once a change has forgotten them, and
    after midnight for the month that has just ended. Nothing missing: one read and
    nothing written. Returns the months counted."""
    now = now or timezone.now()
    months = compliance.last_months(now)
    everyone, filters = compliance.Scope(everyone=True), compliance.Filters()
    finished = summaries.FinishedMonths(months, filters)
    training, acknowledgements, leavers = (
        finished.missing(summaries.TRAINING),
        finished.missing(summaries.ACK),
        finished.missing(summaries.LEAVERS),
    )
    lines = compliance.version_lines() if acknowledgements or leavers else None
    if training:
        compliance_trend.training_coverage(
            scope=everyone, filters=filters, names={}, months=months, now=now, finished=finished
        )
    if acknowledgements:
        compliance_trend.acknowledgement_trend(
            scope=everyone,
            filters=filters,
            lines=lines,
            months=months,
            finished=finished,
        )
    if leavers:
        finished.acknowledgements(
            compliance_trend.kept_counts(lines, compliance.Scope.leavers()),
            None,
            kind=summaries.LEAVERS,
        )
    return len(training) + len(acknowledgements) + len(leavers)
