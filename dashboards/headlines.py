"""The Dashboards page: each dashboard the viewer may open, as a card with its headline
figures, each figure linked to the list of its rows.

Nothing is counted here in a way of its own. Each figure comes from the query its full
dashboard uses, for the same viewer and with the dashboards' default (no) filters, so
the numbers agree by construction:

- My team: `team.summary` (people with something overdue) over `audience.team`.
- Remediation: `remediation.open_incidents` and `remediation.overdue_actions` (both
  about today), and time to contain as `remediation.timings` measures it (the first
  "contained" of each incident in the history, from when it was noticed), for the
  months of this quarter: the median over every incident contained in them.
- Compliance: the heatmap's "All departments" total of the main policy
  (`compliance.heatmap`) and training coverage's overall row
  (`compliance_trend.training_coverage`), in the viewer's `Scope`.

The main policy is the published social media policy (the category PolicyHub is built
around). Without one, or with several, it is the published one (of those) that the most
people in the viewer's scope must acknowledge, then by title; the card says which rule
chose it.

Costs: a fixed number of queries however many people, incidents or assignments: one
COUNT for My team; three for Remediation; for Compliance the version lines, one grouped
heatmap query and one per active training requirement. The active requirements are read
once for both cards that need them, and so is a line manager's team: one query walks the
reporting line, and every card's queries take its ids as one parameter instead of
walking it again (`audience.team_read_once`), so all the figures count the same people.
"""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

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


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _people(count: int) -> str:
    return _plural(count, "person", "people")


def _url(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}" if params else reverse(name)


# --- My team ---------------------------------------------------------------------------


def team_card(user, *, now: datetime, requirements) -> Card:
    found = team.summary(audience.team(user), now=now, requirements=requirements)
    return Card(
        slug="team",
        title="My team",
        url=reverse("dashboards:team"),
        description=(
            "Your direct and indirect reports: what they still have to acknowledge, "
            "attend and do, with a nudge."
        ),
        figures=[
            Figure(
                name="People with something overdue",
                value=f"{found.overdue:,}",
                detail=f"of the {_people(found.people)} in your team",
                url=_url("dashboards:team", overdue=1),
                number=found.overdue,
                alert=found.overdue > 0,
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
    events = remediation.in_months(remediation.first_contained(found), months[0], months[-1])
    hours, by_month = [], Counter()
    for noticed, at in events.values_list("incident__noticed_at", "at"):
        hours.append((at - noticed).total_seconds() / 3600)
        by_month[f"{timezone.localtime(at):%Y-%m}"] += 1
    return Containment(hours, {month: by_month[month] for month in months})


def duration(hours: float) -> str:
    """ "5.2 hours"; from two days on, with the days: "84.0 hours (3.5 days)"."""
    text = f"{hours:.1f} {'hour' if hours == 1 else 'hours'}"
    if hours >= 48:
        text += f" ({hours / 24:.1f} days)"
    return text


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
            name="Open incidents",
            value=f"{open_now.total:,}",
            detail=("on the learning track, involving your people" if mine else "not closed yet"),
            url=_url("dashboards:remediation_incidents", open=1),
            number=open_now.total,
        ),
        Figure(
            name="Overdue actions",
            value=f"{overdue:,}",
            detail=(
                "owned by you or your people, open past the due date"
                if mine
                else "open past the due date"
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
                name=f"Median time to contain, {quarter}",
                value="—",
                detail=f"No incident was contained in {quarter} yet.",
                url=None,
                number=None,
            )
        )
    else:
        figures.append(
            Figure(
                name=f"Median time to contain, {quarter}",
                value=duration(contained.median_hours),
                detail=(
                    f"from noticed to contained, over the "
                    f"{_plural(measured, 'incident', 'incidents')} contained in {quarter}"
                ),
                url=timings,
                number=contained.median_hours,
                links=[
                    Link(f"{count} in {remediation.month_label(month)}", _contained_url(month))
                    for month, count in contained.by_month.items()
                    if count
                ],
                note="Measured from the incident history, as on the Remediation dashboard.",
            )
        )
    return Card(
        slug="remediation",
        title="Remediation",
        url=reverse("dashboards:remediation"),
        description=(
            "Open incidents, overdue actions, time to contain and to close, classification, "
            "recurrence and late reviews."
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
    # The heatmap's rows are not read, only its totals: department names are not needed.
    heat = compliance.heatmap(
        scope=scope, filters=compliance.Filters(policy=only), lines=lines, names={}
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
        why = "The social media policy."
    elif social:
        why = "Of the social media policies, the one the most people here must acknowledge."
    else:
        why = (
            "No social media policy is published: the policy the most people here must acknowledge."
        )
    return MainPolicy(cell, version, why)


def compliance_card(user, scope: compliance.Scope, *, now: datetime, requirements) -> Card:
    whom = "everyone" if scope.everyone else "your team"
    figures = [_acknowledgement_figure(scope, whom)]
    coverage = compliance_trend.training_coverage(
        scope=scope,
        filters=compliance.Filters(),
        names={},  # only the overall row is read
        months=[],  # no trend here
        now=now,
        requirements=requirements,
    ).overall
    name = "Training coverage"
    if not requirements:
        figures.append(Figure(name, "—", "No training requirement is active.", None, None))
    elif not coverage.audience:
        figures.append(
            Figure(
                name, "—", "Nobody here is in the audience of an active requirement.", None, None
            )
        )
    else:
        figures.append(
            Figure(
                name=name,
                value=f"{coverage.percent}%",
                detail=(
                    f"met: {coverage.compliant:,} of {coverage.audience:,} people × "
                    f"requirements ({whom})"
                ),
                note="Each person counts once for every active requirement they must meet.",
                url=coverage.url,
                number=coverage.percent,
            )
        )
    return Card(
        slug="compliance",
        title="Compliance",
        url=reverse("dashboards:compliance"),
        description=(
            "Acknowledgements by policy and department, training coverage, and the trend "
            "over twelve months."
        ),
        figures=figures,
    )


def _acknowledgement_figure(scope: compliance.Scope, whom: str) -> Figure:
    main = main_policy(scope, compliance.version_lines())
    if main is None:
        return Figure("Acknowledgement", "—", "No policy has a published version yet.", None, None)
    title = f"{main.version.policy.title} {main.version.number}"
    note = main.why
    name = f"Acknowledgement: {title}"
    cell = main.cell
    if not cell.total:
        return Figure(name, "—", f"Nobody here has {title} to acknowledge.", None, None, note=note)
    return Figure(
        name=name,
        value=f"{cell.percent}%",
        detail=f"acknowledged: {cell.acknowledged:,} of {_people(cell.total)} assigned ({whom})",
        url=cell.url,
        number=cell.percent,
        note=note,
    )


# --- the page -------------------------------------------------------------------------------


def cards_for(user, *, now: datetime | None = None) -> list[Card]:
    """The cards of the dashboards `user` may open, in the order of the page."""
    now = now or timezone.now()
    manages = roles.is_line_manager(user)
    # Every card of a line manager is about their team: it is read once, not by each
    # card's queries again (see `audience.team_read_once`).
    with audience.team_read_once(user) if manages else nullcontext():
        scope = compliance.scope_for(user)
        requirements = active_requirements() if manages or scope is not None else []
        cards = []
        if manages:
            cards.append(team_card(user, now=now, requirements=requirements))
        if can_see_remediation(user):
            cards.append(remediation_card(user, now=now))
        if scope is not None:
            cards.append(compliance_card(user, scope, now=now, requirements=requirements))
    return cards
