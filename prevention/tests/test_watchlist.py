"""The watch list: who may keep it, what it refuses (and then changes nothing), the audit
of every change, the list's filters, paging and query counts, entries from a lesson,
links to the policy section, and the admin."""

import itertools
from datetime import timedelta
from html import unescape

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, Lesson
from people import roles
from policies.tests.factories import published_policy
from prevention import matching
from prevention import watchlist_services as services
from prevention.links import section_url
from prevention.models import PostReview, PreventionError, WatchTerm, WatchTermChange
from prevention.tests.factories import watch_term
from prevention.watchlist_views import lesson_watch_terms

pytestmark = pytest.mark.django_db

Action = WatchTermChange.Action

BODY = """\
Intro text for everyone.

## Personal accounts

Say that your views are your own.

## Confidential information

Never post customer data or unannounced products.

## Figures & prices

Revenue and prices are announced by finance only.
"""


def text(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def policy(policy_admin, make_person):
    policy, _version = published_policy(
        title="Social media policy", owner=policy_admin, approver=make_person(), body=BODY
    )
    return policy


@pytest.fixture
def lesson():
    return Lesson.objects.create(
        title="A code name in a conference photo",
        text="A slide with an internal code name was visible in a photo.",
        published=True,
        published_at=timezone.now(),
    )


@pytest.fixture
def comms_lead(make_person):
    return make_person(full_name="Carla Lead", group=roles.COMMS_LEAD)


def form_data(policy=None, **fields) -> dict:
    data = {
        "kind": "term",
        "text": "Project Falcon",
        "category": Incident.Information.PRODUCT,
        "severity": Incident.Severity.HIGH,
        "explanation": "Falcon is the internal name of a product not yet announced.",
        "section": f"{policy.pk}:Confidential information" if policy else "",
        "expires_on": "",
        "active": "on",
    }
    if fields.get("kind") == "pattern":
        data["name"] = "Unpublished figures"  # a pattern needs a name
    data.update(fields)
    return data


def service_fields(**fields) -> dict:
    values = {
        "kind": WatchTerm.Kind.TERM,
        "text": "Project Falcon",
        "category": Incident.Information.PRODUCT,
        "severity": Incident.Severity.HIGH,
        "explanation": "Falcon is the internal name of a product not yet announced.",
    }
    if fields.get("kind") == WatchTerm.Kind.PATTERN:
        values["name"] = "Unpublished figures"  # a pattern needs a name
    values.update(fields)
    return values


def counts() -> tuple[int, int]:
    return WatchTerm.objects.count(), WatchTermChange.objects.count()


# --- who may open what --------------------------------------------------------------------


def _pages(term, lesson):
    return [
        ("prevention:watchlist", ()),
        ("prevention:watchlist_add", ()),
        ("prevention:watchlist_history", ()),
        ("prevention:watchlist_edit", (term.pk,)),
        ("prevention:watchlist_delete", (term.pk,)),
        ("prevention:watchlist_term_history", (term.pk,)),
        ("prevention:watchlist_from_lesson", (lesson.pk,)),
    ]


@pytest.mark.parametrize("role", ["employee", "manager", "hr", "leader", "outsider", "site_admin"])
def test_the_watch_list_is_refused_to_everyone_but_comms_and_policy_admins(
    client, request, role, lesson, employee
):
    term = watch_term(text="Project Atlas")
    client.force_login(request.getfixturevalue(role))
    for name, args in _pages(term, lesson):
        url = reverse(name, args=args)
        assert client.get(url).status_code == 403, name
    before = counts()
    for name, args in _pages(term, lesson):
        if name in ("prevention:watchlist_add", "prevention:watchlist_from_lesson"):
            data = form_data(text="Project Eagle")
        elif name == "prevention:watchlist_edit":
            data = form_data(text="Project Renamed")
        else:
            data = {}
        assert client.post(reverse(name, args=args), data).status_code in (403, 405), name
    assert counts() == before
    assert WatchTerm.objects.get().text == "Project Atlas"


@pytest.mark.parametrize("role", ["comms", "policy_admin", "comms_lead"])
def test_comms_and_policy_admins_open_every_watch_list_page(client, request, role, lesson):
    term = watch_term(text="Project Atlas")
    services.change_term(
        term=term,
        by=request.getfixturevalue(role),
        **service_fields(text="Project Atlas", severity="low"),
    )
    client.force_login(request.getfixturevalue(role))
    for name, args in _pages(term, lesson):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        assert "Project Atlas" in text(response) or name.endswith(("add", "from_lesson")), name


@pytest.mark.parametrize("role", ["employee", "manager", "hr", "leader"])
def test_the_services_refuse_people_who_do_not_keep_the_watch_list(request, role, lesson):
    user = request.getfixturevalue(role)
    term = watch_term(text="Project Atlas")
    refusal = "Only comms and policy admins keep the watch list."
    with pytest.raises(PreventionError, match=refusal):
        services.add_term(by=user, **service_fields())
    with pytest.raises(PreventionError, match=refusal):
        services.change_term(term=term, by=user, **service_fields(text="Project Atlas 2"))
    with pytest.raises(PreventionError, match=refusal):
        services.delete_term(term=term, by=user)
    with pytest.raises(PreventionError, match=refusal):
        services.term_from_lesson(lesson=lesson, by=user, **service_fields())
    assert counts() == (1, 0)


# --- the audit ----------------------------------------------------------------------------


def test_adding_an_entry_is_audited_with_its_fields(client, comms, policy):
    client.force_login(comms)
    expiry = timezone.localdate() + timedelta(days=30)
    response = client.post(
        reverse("prevention:watchlist_add"),
        form_data(policy, text="  Project   Falcon ", expires_on=expiry.isoformat()),
        follow=True,
    )
    assert "“Project Falcon” is on the watch list." in text(response)
    term = WatchTerm.objects.get()
    assert term.text == "Project Falcon"  # spacing tidied
    assert (term.policy, term.policy_section) == (policy, "Confidential information")
    assert term.created_by == comms and term.expires_on == expiry
    change = WatchTermChange.objects.get()
    assert (change.term, change.action, change.by, change.before) == (
        term,
        Action.CREATED,
        comms,
        {},
    )
    assert change.after == {
        "kind": "term",
        "text": "Project Falcon",
        "name": "",
        "category": "product",
        "severity": "high",
        "explanation": "Falcon is the internal name of a product not yet announced.",
        "policy": "Social media policy",
        "policy_section": "Confidential information",
        "expires_on": expiry.isoformat(),
        "active": True,
        "lesson": "",
    }


def test_a_change_is_audited_before_and_after_and_touches_updated_at(client, policy_admin, policy):
    term = services.add_term(by=policy_admin, **service_fields())
    first_update = term.updated_at
    client.force_login(policy_admin)
    response = client.post(
        reverse("prevention:watchlist_edit", args=[term.pk]),
        form_data(policy, severity="critical", section=f"{policy.pk}:Figures & prices"),
        follow=True,
    )
    assert "“Project Falcon” is saved." in text(response)
    term.refresh_from_db()
    assert term.severity == "critical" and term.policy_section == "Figures & prices"
    assert term.updated_at > first_update
    change = WatchTermChange.objects.filter(action=Action.CHANGED).get()
    assert change.by == policy_admin and change.term == term
    assert change.before["severity"] == "high" and change.after["severity"] == "critical"
    assert change.before["policy"] == "" and change.after["policy"] == "Social media policy"
    assert change.after["policy_section"] == "Figures & prices"

    # The entry's history says it in the page's words.
    html = text(client.get(reverse("prevention:watchlist_term_history", args=[term.pk])))
    assert "Severity" in html and "High" in html and "Critical" in html
    assert "Policy section" in html and "Figures & prices" in html
    assert html.count("<tr>") == 3  # the header, the change, the creation


def test_saving_an_unchanged_entry_writes_no_audit_row(client, comms):
    term = services.add_term(by=comms, **service_fields())
    client.force_login(comms)
    response = client.post(
        reverse("prevention:watchlist_edit", args=[term.pk]), form_data(), follow=True
    )
    assert "Nothing changed in “Project Falcon”." in text(response)
    assert WatchTermChange.objects.count() == 1


def test_deleting_asks_first_and_keeps_the_history(client, comms, policy_admin):
    term = services.add_term(by=policy_admin, **service_fields())
    client.force_login(comms)
    url = reverse("prevention:watchlist_delete", args=[term.pk])
    confirm = text(client.get(url))
    assert "Delete “Project Falcon” from the watch list?" in confirm
    assert WatchTerm.objects.exists()  # opening the page deletes nothing

    response = client.post(url, {"note": "Launched on Monday."}, follow=True)
    assert "“Project Falcon” is no longer on the watch list." in text(response)
    assert not WatchTerm.objects.exists()
    deleted, created = WatchTermChange.objects.order_by("-at", "-id")
    assert (deleted.action, deleted.by, deleted.term, deleted.after) == (
        Action.DELETED,
        comms,
        None,
        {},
    )
    assert deleted.term_text == "Project Falcon" and deleted.note == "Launched on Monday."
    assert deleted.before["text"] == "Project Falcon" and deleted.before["severity"] == "high"
    assert created.term is None and created.term_text == "Project Falcon"

    html = text(client.get(reverse("prevention:watchlist_history")))
    assert "Deleted" in html and "Created" in html and "Launched on Monday." in html
    assert html.count("Project Falcon") >= 2


def test_deleting_an_entry_deleted_meanwhile_says_so(client, comms):
    term = services.add_term(by=comms, **service_fields())
    stale = WatchTerm.objects.get(pk=term.pk)
    services.delete_term(term=term, by=comms)
    with pytest.raises(PreventionError, match="already been deleted"):
        services.delete_term(term=stale, by=comms)
    assert WatchTermChange.objects.filter(action=Action.DELETED).count() == 1


# --- bad input is refused, and nothing changes --------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": "pattern", "text": "(unclosed"}, "text", ""),
        ({"kind": "pattern", "text": "(a+)+$"}, "text", ""),
        ({"kind": "pattern", "text": r"(\w+\s?)*!"}, "text", ""),
        ({"text": "project  FALCON"}, "text", "“Project Falcon” is already on the watch list."),
        ({"text": "Project\x00Falcon"}, "text", "Null characters are not allowed."),
        ({"text": "x" * 301}, "text", "at most 300 characters"),
        ({"explanation": "y" * 5000}, "explanation", "at most 2000 characters"),
        ({"explanation": "Why\x00"}, "explanation", "Null characters are not allowed."),
        ({"text": "   "}, "text", "This field is required."),
        ({"expires_on": "2001-01-01"}, "expires_on", "in the past"),
        ({"section": "999:Confidential information"}, "section", "Select a valid choice"),
        ({"section": "{pk}:No such heading"}, "section", "Select a valid choice"),
        ({"kind": "soundex"}, "kind", "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(
    client, comms, policy, fields, field, message
):
    services.add_term(by=comms, **service_fields())
    before = counts()
    client.force_login(comms)
    if "section" in fields:
        fields = {**fields, "section": fields["section"].replace("{pk}", str(policy.pk))}
    response = client.post(reverse("prevention:watchlist_add"), form_data(policy, **fields))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])
    assert form.errors[field][0] in text(response)
    assert "Please correct" in text(response)
    assert counts() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "pattern", "text": "[a-"}, "text"),
        ({"kind": "pattern", "text": "(x+x+)+y"}, "text"),
        ({"text": "Project Atlas"}, "text"),
        ({"text": "\x00"}, "text"),
        ({"text": "z" * 301}, "text"),
        ({"explanation": ""}, "explanation"),
        ({"explanation": "e" * 2001}, "explanation"),
        ({"expires_on": timezone.localdate() - timedelta(days=1)}, "expires_on"),
        ({"policy_section": "Personal accounts"}, "policy"),
        ({"category": "gossip"}, "category"),
        ({"severity": "apocalyptic"}, "severity"),
    ],
)
def test_the_service_refuses_bad_entries_too(comms, fields, field):
    watch_term(text="Project Atlas")
    before = counts()
    with pytest.raises(PreventionError) as refused:
        services.add_term(by=comms, **service_fields(**fields))
    assert str(refused.value) and refused.value.field == field
    assert counts() == before


def test_a_bad_change_leaves_the_entry_as_it_was(client, comms):
    term = services.add_term(by=comms, **service_fields(kind="pattern", text=r"\bQ[1-4] revenue\b"))
    client.force_login(comms)
    response = client.post(
        reverse("prevention:watchlist_edit", args=[term.pk]),
        form_data(kind="pattern", text="(a|a)*$", severity="low"),
    )
    assert response.status_code == 200 and "text" in response.context["form"].errors
    term.refresh_from_db()
    assert term.text == r"\bQ[1-4] revenue\b" and term.severity == "high"
    assert WatchTermChange.objects.count() == 1


def test_a_section_must_be_one_of_the_current_versions_headings(comms, policy):
    term = services.add_term(
        by=comms, **service_fields(policy=policy, policy_section="  confidential   INFORMATION ")
    )
    assert term.policy_section == "Confidential information"  # as the policy spells it
    with pytest.raises(PreventionError, match="is not a section of the current version"):
        services.add_term(
            by=comms, **service_fields(text="Other", policy=policy, policy_section="Getting help")
        )


def test_an_expiry_already_past_may_stay_but_a_new_one_may_not_be_past(client, comms):
    yesterday = timezone.localdate() - timedelta(days=1)
    term = watch_term(text="Project Falcon", expires_on=yesterday)
    client.force_login(comms)
    url = reverse("prevention:watchlist_edit", args=[term.pk])
    response = client.post(url, form_data(expires_on=yesterday.isoformat(), severity="low"))
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.severity == "low" and term.expires_on == yesterday
    response = client.post(
        url, form_data(expires_on=(yesterday - timedelta(days=1)).isoformat(), severity="low")
    )
    assert "expires_on" in response.context["form"].errors
    term.refresh_from_db()
    assert term.expires_on == yesterday


def test_a_term_the_matcher_reads_the_same_way_is_a_duplicate(comms):
    services.add_term(by=comms, **service_fields(text="Project Falcon"))
    for same in ("#ProjectFalcon", "PROJECT  FÁLCON", "project-falcon"):
        with pytest.raises(PreventionError, match="“Project Falcon” is already on the watch list"):
            services.add_term(by=comms, **service_fields(text=same))
    # A regular expression is another kind of entry, compared as written.
    services.add_term(by=comms, **service_fields(kind="pattern", text=r"\bproject falcon\b"))
    with pytest.raises(PreventionError, match="already on the watch list"):
        services.add_term(by=comms, **service_fields(kind="pattern", text=r"\bproject falcon\b"))
    assert counts() == (2, 2)


def test_live_regular_expressions_are_limited_to_what_the_matcher_runs(comms):
    for number in range(matching.MAX_PATTERNS):
        watch_term(kind="pattern", text=rf"\bQ{number} revenue\b")
    watch_term(kind="pattern", text=r"\bold figure\b", active=False)
    with pytest.raises(PreventionError, match="already has 100 regular expressions"):
        services.add_term(by=comms, **service_fields(kind="pattern", text=r"\bH1 sales\b"))
    # Unticked, it may wait; ticking it (or another) is refused until one goes.
    waiting = services.add_term(
        by=comms, **service_fields(kind="pattern", text=r"\bH1 sales\b", active=False)
    )
    with pytest.raises(PreventionError, match="already has 100 regular expressions"):
        services.change_term(
            term=waiting, by=comms, **service_fields(kind="pattern", text=r"\bH1 sales\b")
        )
    # A live one may still be changed, and words and phrases are not limited.
    live = WatchTerm.objects.filter(kind="pattern", active=True).first()
    services.change_term(
        term=live, by=comms, **service_fields(kind="pattern", text=live.text, severity="low")
    )
    services.add_term(by=comms, **service_fields(text="Project Falcon"))
    services.delete_term(term=live, by=comms)
    services.change_term(
        term=waiting, by=comms, **service_fields(kind="pattern", text=r"\bH1 sales\b")
    )


def test_the_matcher_sees_every_change_at_once(comms):
    matching.forget_current_watch_list()

    def found(text):
        return [finding.label for finding in matching.current_watch_list().match(text)]

    term = services.add_term(by=comms, **service_fields())
    assert found("Launching Project Falcon soon") == ["Project Falcon"]
    services.change_term(term=term, by=comms, **service_fields(text="Project Osprey"))
    assert found("Project Falcon and Project Osprey") == ["Project Osprey"]
    services.change_term(term=term, by=comms, **service_fields(text="Project Osprey", active=False))
    assert found("Project Osprey") == []
    services.change_term(term=term, by=comms, **service_fields(text="Project Osprey"))
    assert found("Project Osprey") == ["Project Osprey"]
    services.delete_term(term=term, by=comms)
    assert found("Project Osprey") == []


# --- the list -----------------------------------------------------------------------------


def test_the_list_filters_by_category_state_and_search(client, comms):
    today = timezone.localdate()
    watch_term(text="Project Atlas", category="product")
    watch_term(text="Acme Bank", category="personal", explanation="A customer we do not name.")
    watch_term(text="Old Codename", expires_on=today - timedelta(days=1))
    watch_term(text="Paused Name", active=False)
    client.force_login(comms)
    url = reverse("prevention:watchlist")

    def listed(**query) -> set[str]:
        response = client.get(url, query)
        assert response.status_code == 200
        return {row.term.text for row in response.context["rows"]}

    assert listed() == {"Project Atlas", "Acme Bank", "Old Codename", "Paused Name"}
    assert listed(category="personal") == {"Acme Bank"}
    assert listed(state="watched") == {"Project Atlas", "Acme Bank"}
    assert listed(state="expired") == {"Old Codename"}
    assert listed(state="off") == {"Paused Name"}
    assert listed(q="customer") == {"Acme Bank"}
    assert listed(q="atlas", kind="term") == {"Project Atlas"}
    html = text(client.get(url))
    assert "Expired " in html and "Not watched" in html


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"category": "gossip"}, "What kind of information: Select a valid choice."),
        ({"state": "maybe"}, "Watched: Select a valid choice."),
        ({"q": "x" * 101}, "Search: Ensure this value has at most 100 characters"),
        ({"q": "Atlas\x00"}, "Search: Null characters are not allowed."),
    ],
)
def test_a_bad_filter_lists_nothing_and_says_why(client, comms, query, problem):
    watch_term(text="Project Atlas")
    client.force_login(comms)
    response = client.get(reverse("prevention:watchlist"), query)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert problem in text(response)


_numbers = itertools.count(1)


def _fill(count: int, *, policy, lesson, by):
    for _ in range(count):
        number = next(_numbers)
        term = services.add_term(
            by=by,
            **service_fields(
                text=f"Code name {number:04}",
                policy=policy,
                policy_section="Confidential information",
                expires_on=timezone.localdate() + timedelta(days=number % 50),
                lesson=lesson,
            ),
        )
        services.change_term(
            term=term,
            by=by,
            **service_fields(
                text=term.text, severity="low", policy=policy, policy_section="Figures & prices"
            ),
        )


def test_the_list_is_paged_and_its_query_count_does_not_grow(
    client, comms, policy, lesson, django_assert_max_num_queries
):
    _fill(2, policy=policy, lesson=lesson, by=comms)
    client.force_login(comms)
    url = reverse("prevention:watchlist")
    client.get(url)
    with django_assert_max_num_queries(10) as few:
        client.get(url)
    _fill(30, policy=policy, lesson=lesson, by=comms)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert "1–25 of 32 entries" in html and "Page 1 of 2" in html
    assert html.count(section_url(policy, "Figures & prices")) == 25
    html = text(client.get(url, {"page": 2}))
    assert "26–32 of 32 entries" in html


@pytest.mark.parametrize(
    "name", ["prevention:watchlist_history", "prevention:watchlist_term_history"]
)
def test_the_history_is_paged_and_its_query_count_does_not_grow(
    client, comms, policy, lesson, name, django_assert_max_num_queries
):
    first = services.add_term(by=comms, **service_fields(text="First entry"))
    args = [first.pk] if name.endswith("term_history") else []

    def churn(count):
        for number in range(count):
            services.change_term(
                term=first, by=comms, **service_fields(text="First entry", explanation=f"v{number}")
            )
        _fill(count, policy=policy, lesson=lesson, by=comms)

    churn(1)
    client.force_login(comms)
    url = reverse(name, args=args)
    client.get(url)
    with django_assert_max_num_queries(10) as few:
        client.get(url)
    churn(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    changes = WatchTermChange.objects.filter(**({"term": first} if args else {})).count()
    assert changes > 30 and len(response.context["rows"]) == 25
    assert f"Page 1 of {(changes + 24) // 25}" in text(response)


# --- from a lesson ------------------------------------------------------------------------


def test_a_lesson_adds_a_term_linked_both_ways(client, policy_admin, lesson, policy):
    client.force_login(policy_admin)
    url = reverse("prevention:watchlist_from_lesson", args=[lesson.pk])
    form_page = client.get(url)
    html = text(form_page)
    assert lesson.title in html
    assert lesson.title in form_page.context["form"].initial["explanation"]

    response = client.post(url, form_data(policy, text="Nightjar"))
    assert response.status_code == 302 and response.url == reverse(
        "incidents:lesson", args=[lesson.pk]
    )
    term = WatchTerm.objects.get()
    assert term.lesson == lesson and list(lesson.watch_terms.all()) == [term]
    change = term.changes.get()
    assert change.after["lesson"] == lesson.title and lesson.title in change.note

    # The list names the lesson; the lesson lists the entry for those who keep the list.
    assert reverse("incidents:lesson", args=[lesson.pk]) in text(
        client.get(reverse("prevention:watchlist"))
    )
    request = RequestFactory().get("/")
    request.user = policy_admin
    panel = render_to_string(
        "prevention/_lesson_watch_terms.html",
        {"lesson": lesson, **lesson_watch_terms(policy_admin, lesson)},
        request=request,
    )
    assert "Nightjar" in panel and "Add a term to the watch list" in panel
    assert url in panel


def test_the_lesson_panel_shows_nothing_to_people_who_do_not_keep_the_list(employee, lesson):
    watch_term(text="Nightjar", lesson=lesson)
    context = lesson_watch_terms(employee, lesson)
    assert context == {"may_keep_watch_list": False, "lesson_watch_terms": []}
    panel = render_to_string("prevention/_lesson_watch_terms.html", {"lesson": lesson, **context})
    assert panel.strip() == ""
    # Included without the context at all, it shows nothing either.
    assert render_to_string("prevention/_lesson_watch_terms.html", {"lesson": lesson}).strip() == ""


def test_an_unpublished_lesson_adds_nothing(client, comms, lesson):
    lesson.published = False
    lesson.save()
    client.force_login(comms)
    url = reverse("prevention:watchlist_from_lesson", args=[lesson.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, form_data()).status_code == 404
    with pytest.raises(PreventionError, match="published lesson"):
        services.term_from_lesson(lesson=lesson, by=comms, **service_fields())
    assert counts() == (0, 0)


# --- the link to the policy section -------------------------------------------------------


def test_section_url_points_at_the_heading_id_of_the_policy_page(client, employee, policy):
    url = section_url(policy, "Confidential information")
    assert url == f"/policies/{policy.slug}/#section-confidential-information"
    assert section_url(policy, "Figures & prices").endswith("#section-figures-prices")
    assert section_url(policy, "") == f"/policies/{policy.slug}/"
    assert section_url(policy, "Größe").endswith("#section-gr%C3%B6%C3%9Fe")
    client.force_login(employee)
    page = text(client.get(url.split("#")[0]))
    for heading in ("Personal accounts", "Confidential information", "Figures & prices"):
        fragment = section_url(policy, heading).split("#")[1]
        assert f'<h2 id="{fragment}">' in page


def test_the_form_offers_the_current_versions_headings(client, comms, policy):
    client.force_login(comms)
    html = text(client.get(reverse("prevention:watchlist_add")))
    assert '<optgroup label="Social media policy">' in html
    for heading in ("Personal accounts", "Confidential information", "Figures & prices"):
        assert f'value="{policy.pk}:{heading}"' in html


def test_an_entry_whose_section_left_the_policy_asks_for_another(client, comms, policy):
    term = watch_term(text="Project Falcon", policy=policy, policy_section="Getting help")
    client.force_login(comms)
    url = reverse("prevention:watchlist_edit", args=[term.pk])
    html = text(client.get(url))
    assert "No longer in a published version" in html and "Getting help" in html
    response = client.post(url, form_data(section=f"{policy.pk}:Getting help", severity="low"))
    assert "is not a section of the current version" in text(response)
    term.refresh_from_db()
    assert term.severity == "high"
    response = client.post(url, form_data(policy, severity="low"))
    assert response.status_code == 302


# --- the admin ----------------------------------------------------------------------------


def test_the_admin_lists_prevention_records_and_never_a_drafts_text(
    client, site_admin, employee, comms
):
    now = timezone.now()
    review = PostReview.objects.create(
        requester=employee,
        draft="My secret draft about Nightjar",
        suggested_text="A suggested rewrite",
        needed_by=now + timedelta(hours=4),
        created_at=now,
    )
    term = watch_term(text="Project Atlas")
    services.change_term(
        term=term, by=comms, **service_fields(text="Project Atlas", severity="low")
    )
    client.force_login(site_admin)
    for model in (
        "watchterm",
        "watchtermchange",
        "postreview",
        "reviewexample",
        "source",
        "intakeitem",
        "webhookdelivery",
    ):
        response = client.get(reverse(f"admin:prevention_{model}_changelist"))
        assert response.status_code == 200, model
    page = text(client.get(reverse("admin:prevention_postreview_change", args=[review.pk])))
    assert "Emily Carter" in page
    assert "Nightjar" not in page and "suggested rewrite" not in page
    # The watch list and its audit are read in the admin, changed on its own pages.
    assert (
        client.post(
            reverse("admin:prevention_watchterm_change", args=[term.pk]), {"text": "Changed"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:prevention_watchtermchange_add")).status_code == 403


# --- the name employees see ---------------------------------------------------------------


def test_a_pattern_without_a_name_for_employees_is_refused(client, comms):
    before = counts()
    with pytest.raises(services.WatchTermError) as refused:
        services.add_term(
            by=comms, **service_fields(kind="pattern", text=r"\bQ[1-4] revenue\b", name="")
        )
    assert refused.value.field == "name"
    client.force_login(comms)
    response = client.post(
        reverse("prevention:watchlist_add"),
        form_data(kind="pattern", text=r"\bQ[1-4] revenue\b", name="  "),
    )
    assert response.status_code == 200
    assert "Give the regular expression a name employees see instead of it" in text(response)
    assert counts() == before


def test_the_name_is_kept_audited_and_shown_beside_the_expression(client, comms):
    client.force_login(comms)
    client.post(
        reverse("prevention:watchlist_add"),
        form_data(kind="pattern", text=r"\bQ[1-4] revenue\b", name="Unpublished figures"),
    )
    term = WatchTerm.objects.get()
    assert term.name == "Unpublished figures"
    services.change_term(
        term=term,
        by=comms,
        **service_fields(kind="pattern", text=term.text, name="Unpublished quarterly figures"),
    )
    change = WatchTermChange.objects.get(action=Action.CHANGED)
    assert (change.before["name"], change.after["name"]) == (
        "Unpublished figures",
        "Unpublished quarterly figures",
    )
    history = text(client.get(reverse("prevention:watchlist_term_history", args=[term.pk])))
    assert "Name shown to employees" in history and "Unpublished quarterly figures" in history
    listed = text(client.get(reverse("prevention:watchlist")))
    assert r"\bQ[1-4] revenue\b" in listed
    assert "Employees see: Unpublished quarterly figures" in listed
    assert term.name in text(client.get(reverse("prevention:watchlist") + "?q=quarterly"))


def test_a_term_may_have_a_name_or_none(comms):
    named = services.add_term(by=comms, **service_fields(name=" A  product  not yet announced "))
    assert named.name == "A product not yet announced"
    plain = services.add_term(by=comms, **service_fields(text="Project Osprey"))
    assert plain.name == ""


def test_a_pattern_kept_before_names_is_shown_as_needing_one(client, comms):
    watch_term(kind="pattern", text=r"\bH1 sales\b", name="")
    client.force_login(comms)
    listed = text(client.get(reverse("prevention:watchlist")))
    assert f"No name yet: employees see “{matching.UNNAMED_PATTERN}”" in listed
