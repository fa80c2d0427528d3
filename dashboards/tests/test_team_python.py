"""My team's rows as Python writes them (`team_views.shown`): each word the same as the
template tags that wrote it before (so the page reads the same in every language), and
a page of the list building only the people it reads (`team.Listing`)."""

from datetime import date, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import conditional_escape

from dashboards import team as queries
from dashboards import team_views
from people.models import Department, User
from policies.models import Assignment
from policies.tests.factories import published_policy

TEAM = reverse("dashboards:team")

# What the template wrote for each note, with the figure as `n`.
LATE = "{% blocktranslate trimmed with count=n %}({{ count }} overdue){% endblocktranslate %}"
TO_BOOK = "{% blocktranslate trimmed with count=n %}{{ count }} to book{% endblocktranslate %}"
BOOKED = "{% blocktranslate trimmed with count=n %}{{ count }} booked{% endblocktranslate %}"
NOT_YET_DUE = (
    "{% blocktranslate trimmed with count=n %}{{ count }} not yet due (new joiner)"
    "{% endblocktranslate %}"
)
BRIEFINGS_BOOKED = (
    "{% blocktranslate count count=n trimmed %}Briefing booked{% plural %}"
    "Briefings booked{% endblocktranslate %}"
)


def tag(source: str, **context) -> str:
    return Template("{% load i18n %}" + source).render(Context(context))


def person(pk: int, *, manager=None, department=None, job_title="", **figures) -> User:
    found = User(
        pk=pk,
        full_name=f"Person {pk}",
        email=f"person{pk}@example.com",
        manager=manager,
        department=department,
        job_title=job_title,
    )
    found.outstanding = queries.Outstanding(**figures)
    return found


@pytest.mark.parametrize("language", ["en-gb", "de", "fr"])
@pytest.mark.parametrize("count", [1, 2, 1234])
def test_a_rows_notes_read_as_the_template_tags_wrote_them(language, count):
    viewer = User(pk=1, full_name="Marcus Reid", email="manager@example.com")
    due = date(2026, 3, 4)
    late = person(
        2,
        manager=viewer,
        policies_open=count + 1,
        policies_overdue=count,
        policies_earliest_due=due,
        training_unmet=3 * count,
        training_booked=count,
        training_overdue=count,
        actions_open=count,
        actions_overdue=count,
        actions_earliest_due=due + timedelta(days=1),
    )
    booked = person(3, manager=viewer, training_unmet=count, training_booked=count)
    with translation.override(language):
        first, second = team_views.shown([late, booked], viewer)
        assert first["policies"] == tag("{{ n }}", n=count + 1)
        for field in ("policies_late", "training_late", "actions_late"):
            assert conditional_escape(first[field]) == tag(LATE, n=count)
        assert conditional_escape(first["training_seats"]) == ", ".join(
            [tag(TO_BOOK, n=2 * count), tag(BOOKED, n=count)]
        )
        assert conditional_escape(first["training_not_yet_due"]) == tag(NOT_YET_DUE, n=2 * count)
        assert conditional_escape(second["training_seats"]) == tag(BOOKED, n=count)
        assert conditional_escape(second["briefings_booked"]) == tag(BRIEFINGS_BOOKED, n=count)
        assert (first["policies_due_iso"], first["actions_due_iso"]) == ("2026-03-04", "2026-03-05")
        assert first["policies_due"] == tag('{{ d|date:"j M Y" }}', d=due)
    assert (first["nudgeable"], second["nudgeable"], second["all_clear"]) == (True, False, False)


@pytest.mark.parametrize("language", ["en-gb", "fr"])
def test_a_rows_manager_department_and_job_title_read_as_before(language):
    viewer = User(pk=1, full_name="Marcus Reid", email="manager@example.com")
    other = User(pk=2, full_name="  ", email="otto@example.com")
    sales = Department(pk=1, name="Sales")
    people = [
        person(3, manager=viewer, department=sales, job_title="Account manager"),
        person(4, manager=other, department=Department(pk=2, name="")),
        person(5),
    ]
    with translation.override(language):
        rows = team_views.shown(people, viewer)
        you = tag('{% translate "You" %}')
    assert [(r["manager"], r["department"], r["job_title"]) for r in rows] == [
        (you, "Sales", "Account manager"),
        ("otto@example.com", "—", "—"),
        ("—", "—", "—"),
    ]
    assert [r["all_clear"] for r in rows] == [True, True, True]
    assert rows[0]["member_url"] == reverse("dashboards:team_member", args=[3])
    assert rows[0]["nudge_url"] == reverse("dashboards:team_nudge", args=[3])


@pytest.mark.django_db
def test_a_french_reader_sees_their_teams_figures_in_french(
    client, manager, employee, policy_admin, leader
):
    manager.language = "fr"
    manager.save()
    published_policy(title="Social media policy", owner=policy_admin, approver=leader)
    Assignment.objects.filter(person=employee).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    client.force_login(manager)
    html = client.get(TEAM).content.decode()
    assert "(1 en retard)" in html
    assert "(1 overdue)" not in html
    assert "<td>Vous</td>" in html


def test_a_page_builds_only_the_people_it_reads(monkeypatch):
    """A long list of people with something overdue: a page near its start reads the
    walked people, a later page the semi-joins, and neither builds the other."""
    built, read = [], []

    class People:
        def __init__(self, name):
            self.name = name

        def __getitem__(self, index):
            return self

        def values(self, *fields):
            return self.name

    def making(name):
        return lambda: built.append(name) or People(name)

    monkeypatch.setattr(queries, "figured", lambda people, moment: read.append(people))
    moment = queries.Moment(now=timezone.now(), today=timezone.localdate(), requirements=())
    for index in (slice(0, 50), slice(50, 100)):
        listing = queries.Listing(
            making("semi-joins"), moment, count=queries.WALK * 50, walked=making("walked")
        )
        listing[index]
    assert built == read == ["walked", "semi-joins"]
