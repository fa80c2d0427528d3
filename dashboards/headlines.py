"""The Dashboards page: each dashboard the viewer may open, as a card with its headline
figures, each figure linked to the list of its rows.

Each figure is its full dashboard's, for the same viewer and with the dashboards'
default (no) filters: from the query the dashboard uses, or, where one pass serves two
cards, from a query that applies the same rules, which the tests hold equal to the
dashboard's:

- My team: `team.team_headline` (people with something overdue) over `audience.team`,
  the rule of My team's summary (`team.team_summary`).
- Remediation: `remediation.open_incidents` and `remediation.overdue_actions` (both
  about today), and time to contain as `remediation.timings` measures it (the first
  "contained" of each incident in the history, from when it was noticed), for the
  months of this quarter: the median over every incident contained in them.
- Compliance: the heatmap's "All departments" total of the main policy
  (`compliance.heatmap`) and training coverage's overall row
  (`compliance_trend.training_coverage`), in the viewer's `Scope`. For a line manager
  who sees only their team, the coverage comes with the My team card's count of the
  same team (`team.team_headline`, by the same rules; the tests hold the two equal).

The main policy is the published social media policy (the category PolicyHub is built
around). Without one, or with several, it is the published one (of those) that the most
people in the viewer's scope must acknowledge, then by title; the card says which rule
chose it.

Costs: a fixed number of queries however many people, incidents or assignments: one
grouped count for My team; three for Remediation (four for a line manager: their
people's overdue actions and their own are counted apart); for Compliance the version
lines, one grouped heatmap query and one for training coverage (none for a line
manager's team: it comes with My team's count). The active requirements are read once
for both cards that need them. A line manager's team is a range of the
reporting-line table (`audience.team`) inside each card's queries: no card walks the
reporting line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboards import compliance, compliance_trend, remediation, team
from incidents.permissions import can_see_remediation
from people import audience, roles
from policies.models import Policy
from training.compliance import active_requirements


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Figure:
    """One headline figure, readable as a sentence: "{name}: {value} {detail}"."""

    name: str  # what is counted: "People with something overdue"
    value: str  # what is shown big: "3", "72%", "5.2 hours", or "—"
    detail: str  # the rest of the sentence, in words: "of the 40 people in your team"
    url: str | None  # the list of its rows; None when there is nothing to list
    number: int | float | None  # the figure itself (None: nothing to measure)
    links: list[Link] = field(default_factory=list)  # the lists it is made of
    note: str = ""  # how it was chosen or measured
    alert: bool = False  # something is overdue

    @property
    def empty(self) -> bool:
        return self.number is None


@dataclass(frozen=True)
class Card:
    slug: str
    title: str
    url: str
    description: str
    figures: list[Figure]


def _people(count: int) -> str:
    return ngettext("%(count)s person", "%(count)s people", count) % {"count": f"{count:,}"}


def _url(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}" if params else reverse(name)


# --- My team ---------------------------------------------------------------------------


def team_card(found: team.Headline) -> Card:
    people, overdue = found.people, found.overdue
    return Card(
        slug="team",
        title=_("My team"),
        url=reverse("dashboards:team"),
        description=(
            _(
                "Your direct and indirect reports: what they still have to acknowledge, "
                "attend and do, with a nudge."
            )
        ),
        figures=[
            Figure(
                name=_("People with something overdue"),
                value=f"{overdue:,}",
                detail=_("of the %(people)s in your team") % {"people": _people(people)},
                url=_url("dashboards:team", overdue=1),
                number=overdue,
                alert=overdue > 0,
            )
        ],
    )


# --- Remediation -------------------------------------------------------------------------


def quarter_months(today: date) -> list[str]:
    """ "YYYY-MM" for the three months of `today`'s quarter."""
    first = 3 * ((today.month - 1) // 3) + 1
    return [f"{today.year:04d}-{month:02d}" for month in range(first, first + 3)]


@dataclass(frozen=True)
class Containment:
    """Time to contain over the incidents first contained in some months."""

    hours: list[float]
    by_month: dict[str, int]  # "YYYY-MM" -> incidents contained that month

    @property
    def median_hours(self) -> float | None:
        return round(median(self.hours), 1) if self.hours else None


def containment(viewer: remediation.Viewer, months: list[str]) -> Containment:
    """As `remediation.timings` measures it, over all of `months` at once (one query)."""
    found = remediation.incidents(viewer, remediation.Filters(), period=False)
    events = remediation.in_months(remediation.first_contained, found, months[0], months[-1])
    periods = remediation.Periods(months)
    hours, by_month = [], Counter()
    for noticed, at in events.values_list("incident__noticed_at", "at"):
        hours.append((at - noticed).total_seconds() / 3600)
        by_month[periods.of(at)] += 1
    return Containment(hours, {month: by_month[month] for month in months})


def duration(hours: float) -> str:
    """ "5.2 hours"; from two days on, with the days: "84.0 hours (3.5 days)"."""
    number = formats.number_format(round(hours, 1), 1)
    if hours >= 48:
        days = formats.number_format(round(hours / 24, 1), 1)
        return _("%(hours)s hours (%(days)s days)") % {"hours": number, "days": days}
    return ngettext("%(hours)s hour", "%(hours)s hours", 1 if hours == 1 else 2) % {"hours": number}


def remediation_card(user, *, now: datetime) -> Card:
    viewer = remediation.Viewer.of(user)
    filters = remediation.Filters()
    today = timezone.localdate(now)
    mine = viewer.team is not None
    open_now = remediation.open_incidents(viewer, filters)
    overdue = sum(
        tally.count for tally in remediation.overdue_actions(viewer, filters, today=today)
    )
    quarter = remediation.quarter_label(remediation.quarter_of(today))
    months = quarter_months(today)
    contained = containment(viewer, months)
    figures = [
        Figure(
            name=_("Open incidents"),
            value=f"{open_now.total:,}",
            detail=(
                _("on the learning track, involving your people") if mine else _("not closed yet")
            ),
            url=_url("dashboards:remediation_incidents", open=1),
            number=open_now.total,
        ),
        Figure(
            name=_("Overdue actions"),
            value=f"{overdue:,}",
            detail=(
                _("owned by you or your people, open past the due date")
                if mine
                else _("open past the due date")
            ),
            url=_url("dashboards:remediation_actions", overdue="all"),
            number=overdue,
            alert=overdue > 0,
        ),
    ]
    timings = f"{reverse('dashboards:remediation')}#timings-heading"
    measured = len(contained.hours)
    if contained.median_hours is None:
        figures.append(
            Figure(
                name=_("Median time to contain, %(quarter)s") % {"quarter": quarter},
                value="—",
                detail=_("No incident was contained in %(quarter)s yet.") % {"quarter": quarter},
                url=None,
                number=None,
            )
        )
    else:
        figures.append(
            Figure(
                name=_("Median time to contain, %(quarter)s") % {"quarter": quarter},
                value=duration(contained.median_hours),
                detail=ngettext(
                    "from noticed to contained, over the %(count)s incident contained in "
                    "%(quarter)s",
                    "from noticed to contained, over the %(count)s incidents contained in "
                    "%(quarter)s",
                    measured,
                )
                % {"count": f"{measured:,}", "quarter": quarter},
                url=timings,
                number=contained.median_hours,
                links=[
                    Link(
                        _("%(count)s in %(month)s")
                        % {"count": count, "month": remediation.month_label(month)},
                        _contained_url(month),
                    )
                    for month, count in contained.by_month.items()
                    if count
                ],
                note=_("Measured from the incident history, as on the Remediation dashboard."),
            )
        )
    return Card(
        slug="remediation",
        title=_("Remediation"),
        url=reverse("dashboards:remediation"),
        description=(
            _(
                "Open incidents, overdue actions, time to contain and to close, "
                "classification, recurrence and late reviews."
            )
        ),
        figures=figures,
    )


def _contained_url(month: str) -> str:
    return _url("dashboards:remediation_incidents", contained=month)


# --- Compliance ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MainPolicy:
    cell: compliance.Cell  # its "All departments" total on the heatmap
    version: object  # the published PolicyVersion
    why: str  # which rule chose it, for the card


def main_policy(scope: compliance.Scope, lines: compliance.Lines) -> MainPolicy | None:
    """The published social media policy; else (none, or several) the published one of
    those that the most people in `scope` must acknowledge, then by title. One heatmap
    query (of that one policy when there is one social media policy); None when no
    policy is published."""
    published = lines.published
    if not published:
        return None
    social = [
        version
        for version in published.values()
        if version.policy.category == Policy.Category.SOCIAL_MEDIA
    ]
    only = social[0].policy if len(social) == 1 else None
    # Only the heatmap's totals are read: not counted by department.
    heat = compliance.heatmap(
        scope=scope,
        filters=compliance.Filters(policy=only),
        lines=lines,
        names={},
        by_department=False,
    )
    candidates = {version.policy_id for version in social} or set(published)
    columns = [
        (cell, version)
        for version, cell in zip(heat.columns, heat.totals.cells, strict=True)
        if version.policy_id in candidates
    ]
    cell, version = min(
        columns, key=lambda pair: (-pair[0].total, pair[1].policy.title.casefold(), pair[1].pk)
    )
    if len(social) == 1:
        why = _("The social media policy.")
    elif social:
        why = _("Of the social media policies, the one the most people here must acknowledge.")
    else:
        why = _(
            "No social media policy is published: the policy the most people here must acknowledge."
        )
    return MainPolicy(cell, version, why)


def compliance_card(
    user,
    scope: compliance.Scope,
    *,
    now: datetime,
    requirements,
    team_figures: team.Headline | None = None,
) -> Card:
    """`team_figures`: the team card's count of the same team (`team.team_headline`),
    whose training coverage is the overall row's, counted in the same pass."""
    whom = _("everyone") if scope.everyone else _("your team")
    figures = [_acknowledgement_figure(scope, whom)]
    if team_figures is not None:
        coverage = compliance_trend.Coverage(
            _("All departments"),
            "",
            team_figures.audience,
            team_figures.compliant,
            with_sub_departments=True,
        )
    else:
        coverage = compliance_trend.training_coverage(
            scope=scope,
            filters=compliance.Filters(),
            names={},  # only the overall row is read
            months=[],  # no trend here
            now=now,
            requirements=requirements,
        ).overall
    name = _("Training coverage")
    if not requirements:
        figures.append(Figure(name, "—", _("No training requirement is active."), None, None))
    elif not coverage.audience:
        figures.append(
            Figure(
                name,
                "—",
                _("Nobody here is in the audience of an active requirement."),
                None,
                None,
            )
        )
    else:
        figures.append(
            Figure(
                name=name,
                value=f"{coverage.percent}%",
                detail=_("met: %(compliant)s of %(audience)s people × requirements (%(whom)s)")
                % {
                    "compliant": f"{coverage.compliant:,}",
                    "audience": f"{coverage.audience:,}",
                    "whom": whom,
                },
                note=_("Each person counts once for every active requirement they must meet."),
                url=coverage.url,
                number=coverage.percent,
            )
        )
    return Card(
        slug="compliance",
        title=_("Compliance"),
        url=reverse("dashboards:compliance"),
        description=(
            _(
                "Acknowledgements by policy and department, training coverage, and the trend "
                "over twelve months."
            )
        ),
        figures=figures,
    )


def _acknowledgement_figure(scope: compliance.Scope, whom: str) -> Figure:
    main = main_policy(scope, compliance.version_lines())
    if main is None:
        return Figure(
            _("Acknowledgement"), "—", _("No policy has a published version yet."), None, None
        )
    title = f"{main.version.policy.title} {main.version.number}"
    note = main.why
    name = _("Acknowledgement: %(policy)s") % {"policy": title}
    cell = main.cell
    if not cell.total:
        detail = _("Nobody here has %(policy)s to acknowledge.") % {"policy": title}
        return Figure(name, "—", detail, None, None, note=note)
    return Figure(
        name=name,
        value=f"{cell.percent}%",
        detail=_("acknowledged: %(acknowledged)s of %(people)s assigned (%(whom)s)")
        % {"acknowledged": f"{cell.acknowledged:,}", "people": _people(cell.total), "whom": whom},
        url=cell.url,
        number=cell.percent,
        note=note,
    )


# --- the page -------------------------------------------------------------------------------


def cards_for(user, *, now: datetime | None = None) -> list[Card]:
    """The cards of the dashboards `user` may open, in the order of the page."""
    now = now or timezone.now()
    manages = roles.is_line_manager(user)
    scope = compliance.scope_for(user)
    requirements = active_requirements() if manages or scope is not None else []
    cards, found = [], None
    if manages:
        moment = team.Moment.of(now=now, requirements=requirements)
        found = team.team_headline(audience.team(user), moment)
        cards.append(team_card(found))
    if can_see_remediation(user):
        cards.append(remediation_card(user, now=now))
    if scope is not None:
        # A manager who sees only their team: its coverage came with the team card's count.
        mine = found if found is not None and not scope.everyone else None
        cards.append(
            compliance_card(user, scope, now=now, requirements=requirements, team_figures=mine)
        )
    return cards
