"""The Remediation dashboard, the lists its figures link to, and their CSV exports.

Comms, HR/legal and leadership see every incident; a line manager sees the
learning-track incidents that involve their people (see
`incidents.permissions.incidents_for_figures`). Everyone else gets 403.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from dashboards import remediation, remediation_charts
from dashboards.forms import DrillForm, RemediationFilterForm
from incidents import permissions
from incidents.models import ActionItem, Assessment, Incident
from incidents.queries import summary_line
from incidents.wording import in_sentence
from people.roles import role_required
from policyhub.exports import csv_response, export_refused
from policyhub.kept import kept_page
from policyhub.paging import page_of

INCIDENTS_PER_PAGE = 25
ACTIONS_PER_PAGE = 25

may_see = role_required(permissions.can_see_remediation)


class _Links:
    """The links from the figures to their lists, for one page: each list's address and
    each set of filters is encoded once (a page has a few hundred links)."""

    def __init__(self):
        self._paths: dict[str, str] = {}
        self._queries: dict[tuple, tuple[dict[str, str], str]] = {}

    def __call__(self, name: str, filters: remediation.Filters, *, period=True, **drill) -> str:
        path = self._paths.get(name)
        if path is None:
            path = self._paths[name] = reverse(name)
        known = self._queries.get((filters, period))
        if known is None:
            params = filters.query(period=period)
            known = self._queries[(filters, period)] = (params, urlencode(params))
        params, query = known
        drill = {key: value for key, value in drill.items() if value}
        if not drill:
            return f"{path}?{query}"
        if params.keys() & drill.keys():  # the figure's value takes the filter's place
            return f"{path}?{urlencode({**params, **drill})}"
        return f"{path}?{query}&{urlencode(drill)}" if query else f"{path}?{urlencode(drill)}"

    def incidents(self, filters: remediation.Filters, *, period=True, **drill) -> str:
        return self("dashboards:remediation_incidents", filters, period=period, **drill)


def figures(viewer: remediation.Viewer, filters: remediation.Filters, *, today) -> dict:
    """Every figure of the page, each with the links to its rows."""
    links = _Links()
    months = remediation.months_between(filters.start, filters.end)
    quarters = remediation.quarters_between(filters.start, filters.end)
    open_now = remediation.open_incidents(viewer, filters)
    for group, name in (
        (open_now.by_status, "status"),
        (open_now.by_severity, "severity"),
        (open_now.by_track, "track"),
    ):
        for tally in group:
            tally.link = links.incidents(filters, period=False, open=1, **{name: tally.value})
    overdue = remediation.overdue_actions(viewer, filters, today=today)
    for tally in overdue:
        tally.link = links(
            "dashboards:remediation_actions", filters, period=False, overdue=tally.value
        )
    timings = remediation.timings(viewer, filters, months)
    for row in timings:
        row.contained_link = links.incidents(filters, period=False, contained=row.month)
        row.closed_link = links.incidents(filters, period=False, closed=row.month)
    columns = remediation.outcome_columns(viewer)
    mix = remediation.classification(viewer, filters, quarters)
    for row in mix:
        row.cells = [
            (
                row.counts[value],
                links.incidents(filters, quarter=row.quarter, **_mix_drill(viewer, value)),
            )
            for value, _ in columns
        ]
    # Recurrence, the exposure window and noticing share one read of the period's incidents.
    period = remediation.period_groups(viewer, filters, quarters)
    recurrence = remediation.recurrence(viewer, filters, groups=period)
    recurrence.linked = [
        (
            label,
            [
                (count, links.incidents(filters, information=value, platform=platform))
                for count, (platform, _) in zip(counts, recurrence.platforms, strict=True)
            ],
        )
        for value, label, counts in recurrence.rows
    ]
    reviews = remediation.late_reviews(viewer, filters, today=today)
    measured, stretches = remediation.exposure(viewer, filters, groups=period)
    for stretch in stretches:
        stretch.link = links.incidents(filters, exposure=stretch.slug)
    noticing = _linked_noticing(
        remediation.noticing(viewer, filters, quarters, groups=period), filters, links
    )
    context = {
        "open": open_now,
        "open_link": links.incidents(filters, period=False, open=1),
        "open_tables": [
            (gettext("By state"), open_now.by_status),
            (gettext("By severity"), open_now.by_severity),
            (gettext("By track"), open_now.by_track),
        ],
        "overdue": overdue,
        "overdue_total": sum(t.count for t in overdue),
        "overdue_link": links(
            "dashboards:remediation_actions", filters, period=False, overdue="all"
        ),
        "timings": timings,
        "columns": columns,
        "sees_outcomes": remediation.sees_outcomes(viewer),
        "mix": mix,
        "recurrence": recurrence,
        "reviews": reviews,
        "late_reviews_link": links.incidents(filters, late_review=1),
        "due_reviews_link": links.incidents(filters, review_due=1),
        "measured": measured,
        "measured_link": links.incidents(filters),
        "stretches": stretches,
        "charts": remediation_charts.page_charts(open_now, timings, columns, mix, stretches),
        "noticing": noticing,
    }
    context["charts"].update(remediation_charts.noticing_charts(noticing))
    return context


POSTED_NOTICED = "posted-noticed"  # the exposure stretch these figures measure


def _linked_noticing(noticing: remediation.Noticing, filters: remediation.Filters, links: _Links):
    """Each count of the posted → noticed figures links to its incidents: those noticed
    that way (`link`) and, of them, those with a posted time (`measured_link`); a
    quarter's to those noticed in it (within the period)."""
    for channel in noticing.channels:
        channel.link = links.incidents(filters, noticed_by=channel.value)
        channel.measured_link = links.incidents(
            filters, noticed_by=channel.value, exposure=POSTED_NOTICED
        )
    for row in noticing.quarters:
        first, last = remediation.quarter_days(row.quarter, filters)
        within = replace(filters, start=first, end=last)
        for channel in row.channels:
            channel.measured_link = links.incidents(
                within, noticed_by=channel.value, exposure=POSTED_NOTICED
            )
    return noticing


def _mix_drill(viewer: remediation.Viewer, value: str) -> dict[str, str]:
    """What a classification cell's link adds: its outcome (HR/legal) or track."""
    return {"outcome" if remediation.sees_outcomes(viewer) else "track": value}


def _department_choices(form) -> list[tuple]:
    """The department filter's choices, read in one query: a template's loop over the
    field's own choices counts them first, then reads them through a cursor."""
    field = form.fields["department"]
    return [
        ("", field.empty_label),
        *((department.pk, field.label_from_instance(department)) for department in field.queryset),
    ]


def _viewer_and_filters(request, *, default_period: bool):
    viewer = remediation.Viewer.of(request.user)
    form = RemediationFilterForm(request.GET or None, viewer=viewer, default_period=default_period)
    return viewer, form, form.filters()


@require_safe
@may_see
@kept_page(reads=("incidents", "prevention"))
def remediation_page(request):
    viewer, form, filters = _viewer_and_filters(request, default_period=True)
    today = timezone.localdate()
    context = figures(viewer, filters, today=today)
    context.update(
        {
            "form": form,
            "department_choices": _department_choices(form),
            "filters": filters,
            "manager_view": viewer.team is not None,
            "query": urlencode(filters.query()),
        }
    )
    return render(request, "dashboards/remediation.html", context)


# --- the lists the figures link to ------------------------------------------------------


def _drilled(request):
    """The viewer, the filters, the drill (None when the link is not valid: a filter or
    a drill value that is not valid lists nothing rather than more) and what is wrong."""
    viewer, form, filters = _viewer_and_filters(request, default_period=False)
    drill_form = DrillForm(request.GET, sees_outcomes=remediation.sees_outcomes(viewer))
    drill = drill_form.drill()
    problems = [str(error) for errors in form.errors.values() for error in errors]
    if drill is None:
        problems.append(drill_form.problem())
    return viewer, filters, (None if problems else drill), " ".join(problems)


def _described(viewer, filters, drill) -> list[str]:
    """What the list holds, in words, for its heading."""
    words = []
    if filters.start or filters.end:
        start = date_format(filters.start, "j M Y") if filters.start else gettext("the start")
        end = date_format(filters.end, "j M Y") if filters.end else gettext("today")
        words.append(gettext("noticed from %(start)s to %(end)s") % {"start": start, "end": end})
    if filters.department:
        words.append(gettext("involving %(department)s") % {"department": filters.department.name})
    if filters.platform:
        platform = Incident.Platform(filters.platform).label
        words.append(gettext("on %(platform)s") % {"platform": platform})
    if drill is None:
        return words
    if drill.open:
        words.append(gettext("open now"))
    for name, word, choices in (
        ("status", gettext("status"), Incident.Status),
        ("severity", gettext("severity"), Incident.Severity),
        ("track", gettext("track"), Incident.Track),
        ("information", gettext("information"), Incident.Information),
    ):
        value = getattr(drill, name)
        if value:
            words.append(f"{word}: {in_sentence(choices(value).label)}")
    if drill.outcome:
        label = in_sentence(Assessment.Outcome(drill.outcome).label)
        quarter = remediation.quarter_label(drill.quarter)
        words.append(
            gettext("%(outcome)s assessed in %(quarter)s") % {"outcome": label, "quarter": quarter}
        )
    elif drill.quarter:
        quarter = remediation.quarter_label(drill.quarter)
        words.append(gettext("classified in %(quarter)s") % {"quarter": quarter})
    if drill.contained:
        month = remediation.month_label(drill.contained)
        words.append(gettext("contained in %(month)s") % {"month": month})
    if drill.closed:
        month = remediation.month_label(drill.closed)
        words.append(gettext("closed in %(month)s") % {"month": month})
    if drill.late_review:
        words.append(gettext("review not done in time"))
    if drill.review_due:
        words.append(gettext("review fallen due"))
    for slug, name, _, _ in remediation.EXPOSURE:
        if drill.exposure == slug:
            words.append(gettext("exposure measured: %(stretch)s") % {"stretch": in_sentence(name)})
    if drill.noticed_by:
        way = in_sentence(remediation.NoticedBy(drill.noticed_by).label)
        words.append(gettext("noticed by %(way)s") % {"way": way})
    return words


@require_safe
@may_see
def incidents(request):
    viewer, filters, drill, problem = _drilled(request)
    today = timezone.localdate()
    if drill is None:
        rows = Incident.objects.none()
    else:
        rows = remediation.incident_rows(
            remediation.drilled_incidents(viewer, filters, drill, today=today)
        )
    page = page_of(request, rows, per_page=INCIDENTS_PER_PAGE)
    full = permissions.sees_all(request.user)
    for incident in page.object_list:
        incident.summary = summary_line(incident)
    return render(
        request,
        "dashboards/remediation_incidents.html",
        {
            "page": page,
            "problem": problem,
            "described": _described(viewer, filters, drill),
            "show_owner": full,
            # Lists of how an incident was noticed, or of an exposure stretch, show when
            # it was posted and the time it was noticed.
            "show_posted": bool(drill and (drill.noticed_by or drill.exposure)),
            "query": request.GET.urlencode(),
        },
    )


@require_safe
@may_see
def actions(request):
    viewer, filters, drill, problem = _drilled(request)
    today = timezone.localdate()
    if drill is not None and not drill.overdue:
        drill, problem = None, gettext("Choose which overdue actions to list.")
    if drill is None:
        rows = ActionItem.objects.none()
    else:
        rows = remediation.drilled_actions(viewer, filters, drill, today=today)
    page = page_of(request, rows, per_page=ACTIONS_PER_PAGE)
    full = permissions.sees_all(request.user)
    for action in page.object_list:
        action.days_overdue = (today - action.due_date).days
        action.summary = summary_line(action.incident)
    return render(
        request,
        "dashboards/remediation_actions.html",
        {
            "page": page,
            "problem": problem,
            "described": _described(viewer, filters, None),
            "bucket": drill.overdue if drill else "",
            "full": full,
            "query": request.GET.urlencode(),
        },
    )


# --- CSV ------------------------------------------------------------------------------


def _incidents_csv(request, viewer, filters, drill, today):
    full = permissions.sees_all(request.user)
    found = remediation.incident_rows(
        remediation.drilled_incidents(viewer, filters, drill, today=today)
    )

    def rows():
        for incident in found.iterator(chunk_size=500):
            yield [
                incident.reference,
                _when(incident.noticed_at),
                incident.get_status_display(),
                incident.get_severity_display(),
                incident.get_track_display(),
                incident.get_platform_display(),
                incident.get_information_display(),
                _when(incident.contained_at),
                _when(incident.closed_at),
                incident.owner.get_full_name() if full and incident.owner else "",
            ]

    header = [
        "Reference",
        "Noticed",
        "Status",
        "Severity",
        "Track",
        "Platform",
        "Information",
        "Contained",
        "Closed",
        "Owner",
    ]
    return header, rows()


def _actions_csv(request, viewer, filters, drill, today):
    full = permissions.sees_all(request.user)
    found = remediation.drilled_actions(viewer, filters, drill, today=today)

    def rows():
        for action in found.iterator(chunk_size=500):
            yield [
                action.incident.reference,
                action.title if full else "",
                action.owner.get_full_name(),
                action.due_date.isoformat(),
                (today - action.due_date).days,
            ]

    return ["Incident", "Action", "Owner", "Due", "Days overdue"], rows()


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _figures_csv(table, viewer, filters, today):
    """One table of the dashboard itself (a few rows), computing only that figure."""
    if table == "open":
        open_now = remediation.open_incidents(viewer, filters)
        header = ["Breakdown", "Value", "Open incidents"]
        rows = [
            [group, tally.label, tally.count]
            for group, tallies in (
                ("State", open_now.by_status),
                ("Severity", open_now.by_severity),
                ("Track", open_now.by_track),
            )
            for tally in tallies
        ]
    elif table == "overdue":
        header = ["Days overdue", "Open actions"]
        overdue = remediation.overdue_actions(viewer, filters, today=today)
        rows = [[tally.value, tally.count] for tally in overdue]
    elif table == "timings":
        months = remediation.months_between(filters.start, filters.end)
        header = [
            "Month",
            "Contained",
            "Median hours to contain",
            "Closed",
            "Median days to close",
        ]
        rows = [
            [row.month, row.contained, row.contain_hours, row.closed, row.close_days]
            for row in remediation.timings(viewer, filters, months)
        ]
    elif table == "classification":
        quarters = remediation.quarters_between(filters.start, filters.end)
        columns = remediation.outcome_columns(viewer)
        header = ["Quarter", *(label for _, label in columns)]
        rows = [
            [row.label, *(row.counts[value] for value, _ in columns)]
            for row in remediation.classification(viewer, filters, quarters)
        ]
    elif table == "recurrence":
        recurrence = remediation.recurrence(viewer, filters)
        header = ["Information", *(label for _, label in recurrence.platforms)]
        rows = [[label, *counts] for _, label, counts in recurrence.rows]
    elif table == "noticed":
        quarters = remediation.quarters_between(filters.start, filters.end)
        header = [
            "Noticed by",
            "Incidents noticed",
            "No posted time",
            "Posted time known",
            "Median hours posted to noticed",
            "90th percentile hours posted to noticed",
        ]
        rows = [
            [c.label, c.noticed, c.unposted, c.measured, c.median_hours, c.p90_hours]
            for c in remediation.noticing(viewer, filters, quarters).channels
        ]
    elif table == "noticed-quarters":
        quarters = remediation.quarters_between(filters.start, filters.end)
        noticing = remediation.noticing(viewer, filters, quarters)
        header = ["Quarter"]
        for channel in noticing.channels:
            header += [f"{channel.label}: posted time known", f"{channel.label}: median hours"]
        rows = [
            [row.label, *(cell for c in row.channels for cell in (c.measured, c.median_hours))]
            for row in noticing.quarters
        ]
    else:
        _, stretches = remediation.exposure(viewer, filters)
        header = ["Stretch", "Median hours", "Incidents measured"]
        rows = [[s.name, s.median_hours, s.measured] for s in stretches]
    return header, iter(rows)


def _not_valid(problem: str):
    return export_refused(
        [problem], back=gettext("Go back to the dashboard and follow a figure's link.")
    )


TABLES = (
    "open",
    "overdue",
    "timings",
    "classification",
    "recurrence",
    "exposure",
    "noticed",
    "noticed-quarters",
)


@require_safe
@may_see
def table_csv(request, table: str):
    if table not in (*TABLES, "incidents", "actions"):
        raise Http404(gettext("No such table."))
    today = timezone.localdate()
    if table in ("incidents", "actions"):
        viewer, filters, drill, problem = _drilled(request)
        if drill is not None and table == "actions" and not drill.overdue:
            problem = gettext("Choose which overdue actions to list.")
        if problem:
            return _not_valid(problem)
        build = _incidents_csv if table == "incidents" else _actions_csv
        header, rows = build(request, viewer, filters, drill, today)
    else:
        # The dashboard's own tables use its default period, as the page does; a filter
        # that is not valid is refused rather than exported as something else.
        viewer, form, filters = _viewer_and_filters(request, default_period=True)
        if form.errors:
            return _not_valid(" ".join(str(e) for errors in form.errors.values() for e in errors))
        header, rows = _figures_csv(table, viewer, filters, today)
    return csv_response(
        header=header, rows=rows, filename=f"remediation-{table}-{today:%Y-%m-%d}.csv"
    )
