"""Compliance dashboard: acknowledgements by policy and department, training coverage,
the 12-month trend, and the people behind every figure (with CSV exports)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from dashboards import compliance as queries
from dashboards import compliance_people as people_queries
from dashboards import compliance_trend as trend_queries
from dashboards import summaries
from dashboards.charts import Series, bar_chart, line_chart
from policyhub.exports import csv_response, export_refused
from policyhub.kept import kept_page
from policyhub.paging import page_of
from training.queries import next_change

# The dashboard's own tables (besides the people behind a figure), and what each needs.
TABLES = {
    "heatmap": {"training": False, "trend": False},
    "training": {"heatmap": False, "trend": False},
    "trend": {"heatmap": False},
}


def _scope(request) -> queries.Scope:
    scope = queries.scope_for(request.user)
    if scope is None:
        raise PermissionDenied
    return scope


def _page_data(request, scope, *, heatmap=True, training=True, trend=True) -> dict:
    """What the dashboard (or one of its exports) shows, for the request's filters:
    no figures at all when a filter is not valid."""
    now = timezone.now()
    lines = queries.version_lines()
    departments = queries.departments()
    filters = queries.page_filters(request.GET, departments=departments, lines=lines)
    names = {department.pk: department.name for department in departments}
    months = queries.last_months(now)
    data = {"filters": filters, "departments": departments, "lines": lines, "months": months}
    if not filters.valid:
        return data
    if heatmap:
        data["heat"] = queries.heatmap(scope=scope, filters=filters, lines=lines, names=names)
    # The trend's finished months are kept (summaries); this month is counted live.
    finished = summaries.FinishedMonths(months, filters) if trend else None
    if training or trend:
        data["training"] = trend_queries.training_coverage(
            scope=scope, filters=filters, names=names, months=months, now=now, finished=finished
        )
    if trend:
        acknowledgements = trend_queries.acknowledgement_trend(
            scope=scope,
            filters=filters,
            lines=lines,
            months=months,
            finished=finished,
            this_month=data["heat"].assignments if heatmap else None,
        )
        data["trend"] = trend_queries.trend(
            months=months, acknowledgements=acknowledgements, training=data["training"]
        )
    return data


def _csv_url(table: str, query: str) -> str:
    url = reverse("dashboards:compliance_csv", args=[table])
    return f"{url}?{query}" if query else url


def _not_valid(problems: list[str]):
    """An export of a link that is not valid: refused, rather than exported wider."""
    return export_refused(
        problems, back=_("Go back to the compliance dashboard and follow its links.")
    )


@require_safe
@kept_page(next_change, reads=("policies", "training"))
def compliance(request):
    scope = _scope(request)
    data = _page_data(request, scope)
    filters = data["filters"]
    query = filters.query()
    context = {
        **data,
        "everyone": scope.everyone,
        "team_size": None if scope.everyone else scope.person_ids.count(),
        "policies": [
            data["lines"].published[line.policy.pk].policy for line in data["lines"].current()
        ],
        "filtered": bool(query) or not filters.valid,
    }
    if not filters.valid:
        return render(request, "dashboards/compliance.html", context)
    training, points = data["training"], data["trend"]
    training_chart = bar_chart(
        title=_("Training coverage by department (% of people × requirements compliant)"),
        labels=[row.name for row in training.departments],
        series=[
            Series(
                _("% compliant"),
                [row.percent for row in training.departments],
                [row.url for row in training.departments],
            )
        ],
        unit="%",
        max_value=100,
    )
    trend_chart = line_chart(
        title=_("Acknowledgement and training coverage at the end of each month"),
        labels=[point.month.label for point in points],
        series=[
            Series(_("Acknowledged %"), [point.acknowledgement for point in points]),
            Series(_("Training coverage %"), [point.coverage for point in points]),
        ],
        unit="%",
        max_value=100,
    )
    context.update(
        {
            "bands": queries.HEAT_BANDS,
            "training_chart": training_chart,
            "trend_chart": trend_chart,
            "csv": {table: _csv_url(table, query) for table in TABLES},
        }
    )
    return render(request, "dashboards/compliance.html", context)


@require_safe
def people(request):
    scope = _scope(request)
    lines = queries.version_lines()
    query = people_queries.people_query(request.GET, lines=lines)
    found = people_queries.people(scope=scope, query=query, lines=lines)
    page = None
    if found.rows is not None:  # None: the query is not valid
        page = page_of(request, found.rows, per_page=people_queries.PER_PAGE, param="page")
        page.rows = found.describe(page.object_list)
    params = query.params()
    statuses = [
        (value, label, f"?{urlencode({**params, 'status': value})}")
        for value, label in people_queries.STATUSES[query.kind]
    ]
    back = {}
    if query.no_department:
        back["department"] = queries.NONE
    elif query.department:
        back["department"] = query.department.pk
    if query.policy:
        back["policy"] = query.policy.pk
    return render(
        request,
        "dashboards/compliance_people.html",
        {
            "query": query,
            "page": page,
            "everyone": scope.everyone,
            "statuses": statuses,
            "csv_url": _csv_url("people", urlencode(params)),
            "back_url": f"{reverse('dashboards:compliance')}"
            + (f"?{urlencode(back)}" if back else ""),
        },
    )


@require_safe
def table_csv(request, table: str):
    scope = _scope(request)
    if table == "people":
        lines = queries.version_lines()
        query = people_queries.people_query(request.GET, lines=lines)
        if not query.valid:
            return _not_valid(query.problems)
        found = people_queries.people(scope=scope, query=query, lines=lines)
        return csv_response(
            header=people_queries.PEOPLE_HEADER,
            rows=people_queries.people_csv_rows(found),
            filename=f"compliance-people-{query.kind}.csv",
        )
    if table not in TABLES:
        raise Http404(_("There is no such table on the compliance dashboard."))
    # Each table computes only its own figures (the trend needs training coverage).
    data = _page_data(request, scope, **TABLES[table])
    if not data["filters"].valid:
        return _not_valid(data["filters"].problems)
    if table == "heatmap":
        header, rows = queries.HEATMAP_HEADER, queries.heatmap_csv_rows(data["heat"])
    elif table == "training":
        header, rows = (
            trend_queries.TRAINING_HEADER,
            trend_queries.training_csv_rows(data["training"]),
        )
    else:
        header, rows = trend_queries.TREND_HEADER, trend_queries.trend_csv_rows(data["trend"])
    return csv_response(header=header, rows=rows, filename=f"compliance-{table}.csv")
