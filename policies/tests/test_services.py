"""Policy services: the version workflow, numbering, immutability, scheduling, audiences,
assignments (material and minor versions, joiners, leavers, re-acknowledgement),
acknowledging, declining, the quiz, and publication at 10,000 people."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Notification
from people import roles
from people.importer import import_people
from people.models import Department
from policies import services
from policies.models import (
    Acknowledgement,
    Assignment,
    Decline,
    Policy,
    PolicyError,
    PolicyVersion,
    QuizAttempt,
    QuizQuestion,
    VersionEvent,
    sha256_text,
)

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status
Open, Acknowledged, Declined, Closed = (
    Assignment.Status.OPEN,
    Assignment.Status.ACKNOWLEDGED,
    Assignment.Status.DECLINED,
    Assignment.Status.CLOSED,
)
MATERIAL, MINOR = PolicyVersion.Change.MATERIAL, PolicyVersion.Change.MINOR
BODY = (
    "## Why this policy exists\nSpeak in public with confidence.\n\n"
    "## What you must not share\nUnpublished figures, customer data, roadmaps.\n"
)
META = {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (tests)"}
_titles = itertools.count(1)


@pytest.fixture
def reviewer(make_person):
    """A second policy admin: the approver is never the author."""
    return make_person(full_name="Ravi Patel", group=roles.POLICY_ADMIN)


def new_policy(owner, **fields) -> Policy:
    fields.setdefault("title", f"Policy {next(_titles)}")
    return services.create_policy(owner=owner, **fields)


def draft(policy, author, **fields) -> PolicyVersion:
    fields.setdefault("body", BODY)
    return services.create_draft(policy=policy, author=author, **fields)


def approved(policy, author, approver, **fields) -> PolicyVersion:
    version = draft(policy, author, **fields)
    services.submit_for_review(version=version, user=author)
    return services.approve(version=version, user=approver)


def published(policy, author, approver, **fields) -> PolicyVersion:
    version = approved(policy, author, approver, **fields)
    return services.publish(version=version, user=approver)


def acknowledge(version, person, full_name=None) -> Acknowledgement:
    return services.acknowledge(
        version=version,
        user=person,
        full_name=person.full_name if full_name is None else full_name,
        request_meta=META,
    )


def assignment_of(person, policy) -> Assignment:
    return Assignment.objects.get(person=person, policy=policy)


def statuses(policy) -> dict[int, str]:
    return dict(Assignment.objects.filter(policy=policy).values_list("person_id", "status"))


def active_ids(django_user_model) -> set[int]:
    return set(django_user_model.objects.filter(is_active=True).values_list("pk", flat=True))


# --- the version workflow ---------------------------------------------------------------


def test_draft_goes_through_review_and_approval_to_publication(policy_admin, reviewer):
    policy = new_policy(policy_admin)
    version = draft(policy, policy_admin)
    assert version.status == Status.DRAFT and version.number == "1.0"
    services.submit_for_review(version=version, user=policy_admin, note="Ready")
    version = services.approve(version=version, user=reviewer, note="Reads well")
    assert version.status == Status.APPROVED
    assert version.approver == reviewer and version.approved_at is not None
    version = services.publish(version=version, user=reviewer)

    version.refresh_from_db()
    assert version.status == Status.PUBLISHED
    assert version.published_at is not None
    assert version.body_sha256 == sha256_text(BODY)
    assert version.effective_from == timezone.localdate(version.published_at)
    history = [
        (e.from_status, e.to_status, e.by, e.note)
        for e in VersionEvent.objects.filter(version=version)
    ]
    assert history == [
        ("", Status.DRAFT, policy_admin, "Drafted"),
        (Status.DRAFT, Status.IN_REVIEW, policy_admin, "Ready"),
        (Status.IN_REVIEW, Status.APPROVED, reviewer, "Reads well"),
        (Status.APPROVED, Status.PUBLISHED, reviewer, ""),
    ]


def version_in(status, policy, author, approver) -> PolicyVersion:
    """A version of `policy` brought to `status` through the services."""
    version = draft(policy, author)
    if status == Status.DRAFT:
        return version
    services.submit_for_review(version=version, user=author)
    if status == Status.IN_REVIEW:
        return version
    services.approve(version=version, user=approver)
    if status == Status.APPROVED:
        return version
    services.publish(version=version, user=approver)
    if status == Status.SUPERSEDED:
        published(policy, author, approver)
    elif status == Status.RETIRED:
        services.retire(version=version, user=approver)
    version.refresh_from_db()
    assert version.status == status
    return version


# What each service does, and the only statuses it may start from (PRODUCT.md:
# draft → in review → approved → published → superseded or retired; back to draft
# from review or approval).
ACTIONS = {
    "submit": (lambda v, a, r: services.submit_for_review(version=v, user=a), Status.IN_REVIEW),
    "approve": (lambda v, a, r: services.approve(version=v, user=r), Status.APPROVED),
    "return": (lambda v, a, r: services.return_to_draft(version=v, user=r), Status.DRAFT),
    "publish": (lambda v, a, r: services.publish(version=v, user=r), Status.PUBLISHED),
    "retire": (lambda v, a, r: services.retire(version=v, user=r), Status.RETIRED),
}
ALLOWED_FROM = {
    "submit": {Status.DRAFT},
    "approve": {Status.IN_REVIEW},
    "return": {Status.IN_REVIEW, Status.APPROVED},
    "publish": {Status.APPROVED},
    "retire": {Status.PUBLISHED},
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("start", Status.values)
def test_each_action_moves_only_from_its_statuses(action, start, policy_admin, reviewer):
    policy = new_policy(policy_admin)
    version = version_in(start, policy, policy_admin, reviewer)
    events = VersionEvent.objects.filter(version=version).count()
    do, to = ACTIONS[action]
    if start in ALLOWED_FROM[action]:
        do(version, policy_admin, reviewer)
        version.refresh_from_db()
        assert version.status == to
        event = VersionEvent.objects.filter(version=version).last()
        assert (event.from_status, event.to_status) == (start, to)
    else:
        with pytest.raises(PolicyError):
            do(version, policy_admin, reviewer)
        version.refresh_from_db()
        assert version.status == start
        assert VersionEvent.objects.filter(version=version).count() == events


def test_approving_your_own_draft_is_refused(policy_admin):
    version = draft(new_policy(policy_admin), policy_admin)
    services.submit_for_review(version=version, user=policy_admin)
    with pytest.raises(PolicyError) as refused:
        services.approve(version=version, user=policy_admin)
    assert str(refused.value) == (
        "You wrote this draft, so you cannot approve it: another policy admin must."
    )
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW and version.approver is None


def test_publishing_a_draft_is_refused(policy_admin, reviewer):
    version = draft(new_policy(policy_admin), policy_admin)
    with pytest.raises(PolicyError, match="only an approved version can be published"):
        services.publish(version=version, user=reviewer)
    with pytest.raises(PolicyError, match="Only an approved version can be scheduled"):
        services.publish(version=version, user=reviewer, at=timezone.now() + timedelta(days=1))
    version.refresh_from_db()
    assert version.status == Status.DRAFT and version.scheduled_for is None
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("status", [Status.IN_REVIEW, Status.APPROVED, Status.PUBLISHED])
def test_only_a_draft_can_be_edited(status, policy_admin, reviewer):
    version = version_in(status, new_policy(policy_admin), policy_admin, reviewer)
    with pytest.raises(PolicyError, match="only a draft can be edited"):
        services.update_draft(
            version=version, user=policy_admin, body="Changed", change_summary="", change=MATERIAL
        )
    assert PolicyVersion.objects.get(pk=version.pk).body == BODY


@pytest.mark.parametrize("pending", [Status.DRAFT, Status.IN_REVIEW, Status.APPROVED])
def test_a_second_pending_draft_is_refused(pending, policy_admin, reviewer):
    policy = new_policy(policy_admin)
    version_in(pending, policy, policy_admin, reviewer)
    with pytest.raises(PolicyError, match="Version 1.0 is still .*finish or withdraw it"):
        draft(policy, reviewer)
    assert policy.versions.count() == 1


def test_an_empty_draft_cannot_be_sent_for_review(policy_admin):
    version = draft(new_policy(policy_admin), policy_admin, body="  \n")
    with pytest.raises(PolicyError, match="empty draft"):
        services.submit_for_review(version=version, user=policy_admin)


def test_returning_to_draft_clears_the_approval_and_the_schedule(policy_admin, reviewer):
    version = approved(new_policy(policy_admin), policy_admin, reviewer)
    services.publish(version=version, user=reviewer, at=timezone.now() + timedelta(days=3))
    services.return_to_draft(version=version, user=policy_admin, note="One more change")
    version.refresh_from_db()
    assert version.status == Status.DRAFT
    assert (version.approver, version.approved_at, version.scheduled_for) == (None, None, None)
    # Back to draft means editable again, and the beat no longer publishes it.
    services.update_draft(
        version=version,
        user=policy_admin,
        body=BODY + "\nMore.",
        change_summary="",
        change=MATERIAL,
    )
    assert services.publish_due_versions(now=timezone.now() + timedelta(days=4)) == 0
    version.refresh_from_db()
    assert version.status == Status.DRAFT and version.body.endswith("More.")


def test_retiring_closes_open_assignments_and_nothing_can_be_acknowledged(
    policy_admin, reviewer, employee, manager
):
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    acknowledge(version, employee)
    services.retire(version=version, user=reviewer, note="No longer needed")
    version.refresh_from_db()
    assert version.status == Status.RETIRED
    assert statuses(policy)[employee.pk] == Acknowledged
    assert statuses(policy)[manager.pk] == Closed
    assert assignment_of(manager, policy).completed_at is not None
    with pytest.raises(PolicyError, match="is not published"):
        acknowledge(version, manager)
    assert services.reconcile_assignments() == {"assigned": 0, "closed": 0, "reopened": 0}


# --- numbering --------------------------------------------------------------------------


def test_versions_are_numbered_material_major_and_minor_point(policy_admin, reviewer):
    policy = new_policy(policy_admin)
    # The first version is always 1.0 and material, whatever was asked.
    first = published(policy, policy_admin, reviewer, change=MINOR)
    assert (first.number, first.change) == ("1.0", MATERIAL)
    assert published(policy, policy_admin, reviewer, change=MATERIAL).number == "2.0"
    assert published(policy, policy_admin, reviewer, change=MINOR).number == "2.1"
    nxt = draft(policy, policy_admin, change=MINOR)
    assert nxt.number == "2.2"
    # Changing a draft from minor to material renumbers it.
    nxt = services.update_draft(
        version=nxt, user=policy_admin, body=BODY, change_summary="Rewritten", change=MATERIAL
    )
    assert PolicyVersion.objects.get(pk=nxt.pk).number == "3.0"


def test_a_retired_policy_starts_again_at_the_next_major_number(policy_admin, reviewer):
    policy = new_policy(policy_admin)
    services.retire(version=published(policy, policy_admin, reviewer), user=reviewer)
    assert draft(policy, policy_admin, change=MATERIAL).number == "2.0"


# --- immutability -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.PUBLISHED, Status.SUPERSEDED, Status.RETIRED])
def test_saving_a_changed_body_of_a_published_version_fails(status, policy_admin, reviewer):
    version = version_in(status, new_policy(policy_admin), policy_admin, reviewer)
    loaded = PolicyVersion.objects.get(pk=version.pk)
    loaded.body = BODY.replace("Unpublished figures", "Anything you like")
    with pytest.raises(PolicyError, match="cannot be changed; write a new draft instead"):
        loaded.save()
    stored = PolicyVersion.objects.get(pk=version.pk)
    assert stored.body == BODY and stored.body_sha256 == sha256_text(BODY)


def test_an_edit_of_a_published_policy_is_a_new_draft(policy_admin, reviewer):
    policy = new_policy(policy_admin)
    current = published(policy, policy_admin, reviewer)
    new = draft(policy, policy_admin, body=BODY + "\n## Press\nRefer journalists to comms.\n")
    assert new.pk != current.pk and new.status == Status.DRAFT
    current.refresh_from_db()
    assert current.status == Status.PUBLISHED and current.body == BODY


# --- scheduled publication --------------------------------------------------------------


def test_a_version_scheduled_for_later_is_published_by_the_beat_when_due(
    policy_admin, reviewer, employee
):
    policy = new_policy(policy_admin, acknowledgement_window_days=10)
    version = approved(policy, policy_admin, reviewer)
    now = timezone.now()
    services.publish(version=version, user=reviewer, at=now + timedelta(days=2))
    version.refresh_from_db()
    assert version.status == Status.APPROVED
    assert version.scheduled_for == now + timedelta(days=2)
    assert not Assignment.objects.exists()

    assert services.publish_due_versions(now=now + timedelta(days=1)) == 0
    assert PolicyVersion.objects.get(pk=version.pk).status == Status.APPROVED

    later = now + timedelta(days=2, minutes=5)
    assert services.publish_due_versions(now=later) == 1
    version.refresh_from_db()
    assert version.status == Status.PUBLISHED
    assert version.published_at == later and version.scheduled_for is None
    assert version.effective_from == timezone.localdate(later)
    event = VersionEvent.objects.filter(version=version).last()
    assert (event.to_status, event.by, event.note) == (
        Status.PUBLISHED,
        None,
        "Published as scheduled",
    )
    assert assignment_of(employee, policy).due_date == timezone.localdate(later) + timedelta(
        days=10
    )
    assert services.publish_due_versions(now=later) == 0


def test_publishing_at_a_time_already_past_publishes_now(policy_admin, reviewer):
    version = approved(new_policy(policy_admin), policy_admin, reviewer)
    services.publish(version=version, user=reviewer, at=timezone.now() - timedelta(hours=1))
    assert PolicyVersion.objects.get(pk=version.pk).status == Status.PUBLISHED


# --- audiences --------------------------------------------------------------------------


def test_everyone_means_every_active_person(
    django_user_model, make_person, policy_admin, reviewer, employee, outsider
):
    gone = make_person(is_active=False)
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    assigned = set(Assignment.objects.filter(version=version).values_list("person_id", flat=True))
    assert assigned == active_ids(django_user_model)
    assert {employee.pk, outsider.pk, policy_admin.pk} <= assigned and gone.pk not in assigned


@pytest.fixture
def departments():
    comms = Department.objects.create(name="Communications")
    social = Department.objects.create(name="Social media", parent=comms)
    team = Department.objects.create(name="Social media EMEA", parent=social)
    sales = Department.objects.create(name="Sales")
    return comms, social, team, sales


def test_departments_include_their_sub_departments(
    make_person, policy_admin, reviewer, departments
):
    comms, social, team, sales = departments
    in_comms = make_person(department=comms)
    in_social = make_person(department=social)
    in_team = make_person(department=team)
    in_sales = make_person(department=sales)
    nowhere = make_person()
    policy = new_policy(policy_admin, audience=Policy.Audience.DEPARTMENTS, departments=[social])
    published(policy, policy_admin, reviewer)
    assert set(statuses(policy)) == {in_social.pk, in_team.pk}
    assert not {in_comms.pk, in_sales.pk, nowhere.pk} & set(statuses(policy))


def test_groups_audience_is_the_members_of_the_chosen_groups(make_person, policy_admin, reviewer):
    speakers = Group.objects.create(name="Spokespeople")
    writers = Group.objects.create(name="Bloggers")
    both = make_person(group="Spokespeople")
    both.groups.add(writers)
    writer = make_person(group="Bloggers")
    make_person(group="Other")
    make_person()
    policy = new_policy(policy_admin, audience=Policy.Audience.GROUPS, groups=[speakers, writers])
    version = published(policy, policy_admin, reviewer)
    assert set(statuses(policy)) == {both.pk, writer.pk}
    assert Assignment.objects.filter(version=version).count() == 2  # one each, not per group


# --- material and minor versions --------------------------------------------------------


def test_material_version_supersedes_and_reassigns_the_whole_audience(
    django_user_model, policy_admin, reviewer, employee, manager
):
    policy = new_policy(policy_admin, acknowledgement_window_days=10)
    first = published(policy, policy_admin, reviewer)
    acknowledge(first, employee)
    effective = timezone.localdate() + timedelta(days=5)
    second = published(policy, policy_admin, reviewer, change=MATERIAL, effective_from=effective)

    first.refresh_from_db()
    assert first.status == Status.SUPERSEDED and second.status == Status.PUBLISHED
    old = {a.person_id: a for a in Assignment.objects.filter(version=first)}
    assert old[employee.pk].status == Acknowledged  # what was done stays done
    assert old[manager.pk].status == Closed and old[manager.pk].completed_at is not None
    new = Assignment.objects.filter(version=second)
    assert {a.person_id for a in new} == active_ids(django_user_model)
    assert {a.status for a in new} == {Open}
    assert {a.due_date for a in new} == {effective + timedelta(days=10)}
    # Everyone in the audience is told, once per new assignment.
    told = Notification.objects.filter(
        kind="policy-published",
        subject_type=ContentType.objects.get_for_model(Assignment),
        subject_id__in=[a.pk for a in new],
    )
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(a.person_id for a in new)


def test_minor_version_keeps_acknowledgements_and_moves_open_assignments(
    policy_admin, reviewer, employee, manager
):
    policy = new_policy(policy_admin)
    first = published(policy, policy_admin, reviewer)
    acknowledge(first, employee)
    before = {a.pk: a for a in Assignment.objects.filter(policy=policy)}
    told = Notification.objects.filter(kind="policy-published").count()
    minor = published(policy, policy_admin, reviewer, change=MINOR, change_summary="Typos")

    assert minor.number == "1.1"
    assert PolicyVersion.objects.get(pk=first.pk).status == Status.SUPERSEDED
    after = {a.pk: a for a in Assignment.objects.filter(policy=policy)}
    assert after.keys() == before.keys()  # nothing new assigned
    assert Notification.objects.filter(kind="policy-published").count() == told
    mine = assignment_of(employee, policy)
    assert (mine.status, mine.version_id) == (Acknowledged, first.pk)
    theirs = assignment_of(manager, policy)
    assert (theirs.status, theirs.version_id) == (Open, minor.pk)
    assert theirs.due_date == before[theirs.pk].due_date
    # The acknowledgement of 1.0 still counts for 1.1; the open one is acknowledged on 1.1.
    with pytest.raises(PolicyError, match="You already acknowledged version 1.0"):
        acknowledge(minor, employee)
    assert acknowledge(minor, manager).version == minor


# --- joiners, leavers and the re-acknowledgement period ----------------------------------


def test_a_person_created_after_publication_is_assigned_by_reconciliation(
    make_person, policy_admin, reviewer
):
    policy = new_policy(policy_admin, acknowledgement_window_days=14)
    version = published(policy, policy_admin, reviewer)
    joiner = make_person(full_name="Jo Iner")
    assert not Assignment.objects.filter(person=joiner).exists()
    later = timezone.now() + timedelta(days=30)
    counts = services.reconcile_assignments(now=later)
    assert counts["assigned"] == 1
    assignment = assignment_of(joiner, policy)
    assert (assignment.status, assignment.version_id) == (Open, version.pk)
    # A joiner gets the full window from the day they are assigned.
    assert assignment.due_date == timezone.localdate(later) + timedelta(days=14)
    assert Notification.objects.filter(
        kind="policy-published", recipient=joiner, subject_id=assignment.pk
    ).exists()
    assert services.reconcile_assignments(now=later) == {"assigned": 0, "closed": 0, "reopened": 0}


def test_people_imported_from_the_hr_export_are_assigned(
    django_user_model, policy_admin, reviewer, departments
):
    _, social, _, _ = departments
    everyone = new_policy(policy_admin)
    social_only = new_policy(
        policy_admin, audience=Policy.Audience.DEPARTMENTS, departments=[social]
    )
    published(everyone, policy_admin, reviewer)
    published(social_only, policy_admin, reviewer)
    report = import_people(
        source=(
            "email,full_name,department\n"
            "zoe.park@example.com,Zoe Park,Social media\n"
            "yan.li@example.com,Yan Li,Sales\n"
        )
    )
    assert report.ok and report.applied
    services.reconcile_assignments()
    zoe = django_user_model.objects.get(email="zoe.park@example.com")
    yan = django_user_model.objects.get(email="yan.li@example.com")
    assert statuses(everyone)[zoe.pk] == Open and statuses(everyone)[yan.pk] == Open
    assert statuses(social_only) == {zoe.pk: Open}


def test_a_deactivated_person_has_open_assignments_closed(
    policy_admin, reviewer, employee, manager
):
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    acknowledge(version, manager)
    for person in (employee, manager):
        person.is_active = False
        person.save()
    counts = services.reconcile_assignments()
    assert counts["closed"] == 1
    assert statuses(policy)[employee.pk] == Closed
    assert assignment_of(employee, policy).completed_at is not None
    assert statuses(policy)[manager.pk] == Acknowledged  # history stays as it was


def test_an_imported_leaver_has_open_assignments_closed(policy_admin, reviewer, employee):
    policy = new_policy(policy_admin)
    published(policy, policy_admin, reviewer)
    report = import_people(source=f"email,full_name,active\n{employee.email},Emily Carter,no\n")
    assert report.ok and len(report.deactivated) == 1
    services.reconcile_assignments()
    assert statuses(policy)[employee.pk] == Closed


def test_moving_out_of_the_audience_closes_and_moving_back_reopens(
    make_person, policy_admin, reviewer, departments
):
    comms, social, _, sales = departments
    person = make_person(department=social)
    policy = new_policy(policy_admin, audience=Policy.Audience.DEPARTMENTS, departments=[comms])
    published(policy, policy_admin, reviewer)
    assert statuses(policy) == {person.pk: Open}

    person.department = sales
    person.save()
    assert services.reconcile_assignments()["closed"] == 1
    assert statuses(policy) == {person.pk: Closed}

    person.department = comms
    person.save()
    later = timezone.now() + timedelta(days=40)
    services.reconcile_assignments(now=later)
    assert statuses(policy) == {person.pk: Open}
    assignment = assignment_of(person, policy)
    assert assignment.due_date == timezone.localdate(later) + timedelta(
        days=policy.acknowledgement_window_days
    )
    assert assignment.completed_at is None


def test_a_reactivated_person_is_assigned_again(policy_admin, reviewer, employee):
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    employee.is_active = False
    employee.save()
    services.reconcile_assignments()
    employee.is_active = True
    employee.save()
    services.reconcile_assignments()
    assert statuses(policy)[employee.pk] == Open
    assert acknowledge(version, employee).person == employee


def test_changing_the_audience_follows_at_once(make_person, policy_admin, reviewer, departments):
    comms, _, _, sales = departments
    seller = make_person(department=sales)
    writer = make_person(department=comms)
    policy = new_policy(policy_admin, audience=Policy.Audience.DEPARTMENTS, departments=[comms])
    published(policy, policy_admin, reviewer)
    services.update_policy(
        policy=policy,
        owner=policy_admin,
        category=policy.category,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[sales],
        acknowledgement_window_days=14,
        reacknowledge_months=None,
    )
    assert statuses(policy) == {writer.pk: Closed, seller.pk: Open}


def test_the_reacknowledgement_period_reopens_an_acknowledged_assignment(
    policy_admin, reviewer, employee, departments
):
    comms, _, _, sales = departments
    policy = new_policy(policy_admin, reacknowledge_months=12, acknowledgement_window_days=14)
    version = published(policy, policy_admin, reviewer)
    done = acknowledge(version, employee)

    eleven_months = done.acknowledged_at + timedelta(days=335)
    assert services.reconcile_assignments(now=eleven_months)["reopened"] == 0
    assert statuses(policy)[employee.pk] == Acknowledged

    thirteen_months = done.acknowledged_at + timedelta(days=395)
    assert services.reconcile_assignments(now=thirteen_months)["reopened"] == 1
    assignment = assignment_of(employee, policy)
    assert (assignment.status, assignment.completed_at) == (Open, None)
    assert assignment.due_date == timezone.localdate(thirteen_months) + timedelta(days=14)
    again = acknowledge(version, employee)
    assert again.sequence == done.sequence + 1
    assert statuses(policy)[employee.pk] == Acknowledged


def test_the_reacknowledgement_period_leaves_people_outside_the_audience_alone(
    policy_admin, reviewer, employee
):
    policy = new_policy(policy_admin, reacknowledge_months=12)
    version = published(policy, policy_admin, reviewer)
    done = acknowledge(version, employee)
    employee.is_active = False
    employee.save()
    services.reconcile_assignments(now=done.acknowledged_at + timedelta(days=400))
    # A leaver's acknowledgement stays on record; they are not asked again.
    assert statuses(policy)[employee.pk] == Acknowledged


# --- acknowledging ----------------------------------------------------------------------


def test_acknowledging_records_who_what_when_and_how(policy_admin, reviewer, employee):
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    record = acknowledge(version, employee, full_name="  emily   CARTER ")
    record = Acknowledgement.objects.get(pk=record.pk)
    assert (record.person, record.version) == (employee, version)
    assert record.typed_name == "emily CARTER"  # case and spaces do not matter
    assert (record.ip_address, record.user_agent) == ("203.0.113.7", "Mozilla/5.0 (tests)")
    assert record.text_sha256 == sha256_text(BODY)
    assert record.method == Acknowledgement.Method.WEB and record.on_behalf_by is None
    assignment = assignment_of(employee, policy)
    assert assignment.status == Acknowledged
    assert assignment.completed_at == record.acknowledged_at


def test_a_name_that_does_not_match_is_refused_and_nothing_is_stored(
    policy_admin, reviewer, employee
):
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    for wrong in ("Emily Carte", "Carter Emily", "", "   "):
        with pytest.raises(PolicyError, match="does not match the name we have for you"):
            acknowledge(version, employee, full_name=wrong)
    assert not Acknowledgement.objects.exists()
    assert statuses(policy)[employee.pk] == Open


def test_acknowledging_twice_is_refused(policy_admin, reviewer, employee):
    version = published(new_policy(policy_admin), policy_admin, reviewer)
    acknowledge(version, employee)
    with pytest.raises(PolicyError, match=r"You already acknowledged version 1\.0 on"):
        acknowledge(version, employee)
    assert Acknowledgement.objects.count() == 1


def test_acknowledging_a_superseded_version_is_refused(policy_admin, reviewer, employee):
    policy = new_policy(policy_admin)
    first = published(policy, policy_admin, reviewer)
    published(policy, policy_admin, reviewer, change=MATERIAL)
    with pytest.raises(PolicyError, match="replaced by version 2.0"):
        acknowledge(first, employee)
    assert not Acknowledgement.objects.exists()
    assert services.open_assignment(policy=policy, person=employee).version.number == "2.0"


def test_acknowledging_a_draft_is_refused(policy_admin, employee):
    version = draft(new_policy(policy_admin), policy_admin)
    with pytest.raises(PolicyError, match="is not published"):
        acknowledge(version, employee)


def test_a_person_outside_the_audience_cannot_acknowledge(
    make_person, policy_admin, reviewer, departments, outsider
):
    comms = departments[0]
    make_person(department=comms)
    policy = new_policy(policy_admin, audience=Policy.Audience.DEPARTMENTS, departments=[comms])
    version = published(policy, policy_admin, reviewer)
    with pytest.raises(PolicyError, match="not assigned to you"):
        acknowledge(version, outsider)
    with pytest.raises(PolicyError, match="not assigned to you"):
        services.decline(version=version, user=outsider, reason="Not for me")
    assert not Acknowledgement.objects.exists() and not Decline.objects.exists()


def quiz(version) -> list[QuizQuestion]:
    return [
        QuizQuestion.objects.create(
            version=version,
            position=i,
            text=text,
            choices=["Yes", "No"],
            correct=correct,
        )
        for i, (text, correct) in enumerate(
            [
                ("May you post unpublished quarterly figures?", 1),
                ("Should you tell comms about a mistake you made online?", 0),
            ]
        )
    ]


def test_a_failed_quiz_blocks_acknowledging_and_a_passed_one_allows_it(
    policy_admin, reviewer, employee
):
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    first, second = quiz(version)

    failed = services.submit_quiz(version=version, user=employee, answers={first.pk: 1})
    assert (failed.score, failed.passed) == (50, False)
    with pytest.raises(PolicyError, match=r"Pass the quiz first \(at least 80%"):
        acknowledge(version, employee)
    assert not Acknowledgement.objects.exists()

    passed = services.submit_quiz(
        version=version, user=employee, answers={first.pk: 1, second.pk: 0}
    )
    assert (passed.score, passed.passed) == (100, True)
    record = acknowledge(version, employee)
    assert record.quiz_score == 100
    # Every attempt is kept.
    attempts = QuizAttempt.objects.filter(person=employee, version=version)
    assert sorted(attempts.values_list("score", "passed")) == [(50, False), (100, True)]
    assert attempts.get(passed=False).answers == {str(first.pk): 1, str(second.pk): None}


def test_a_quiz_must_be_taken_before_acknowledging(policy_admin, reviewer, employee):
    version = published(new_policy(policy_admin), policy_admin, reviewer)
    quiz(version)
    with pytest.raises(PolicyError, match="Pass the quiz first"):
        acknowledge(version, employee)


def test_acknowledging_on_behalf_needs_a_reason_and_another_person(
    policy_admin, reviewer, employee
):
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    with pytest.raises(PolicyError, match="Say why"):
        services.acknowledge_on_behalf(version=version, person=employee, by=reviewer, reason=" ")
    with pytest.raises(PolicyError, match="yourself"):
        services.acknowledge_on_behalf(
            version=version, person=reviewer, by=reviewer, reason="Paper form"
        )
    record = services.acknowledge_on_behalf(
        version=version, person=employee, by=reviewer, reason="Signed the paper form on 3 May"
    )
    assert record.method == Acknowledgement.Method.ON_BEHALF
    assert (record.on_behalf_by, record.on_behalf_reason) == (
        reviewer,
        "Signed the paper form on 3 May",
    )
    assert record.typed_name == "Emily Carter"
    assert statuses(policy)[employee.pk] == Acknowledged


# --- declining --------------------------------------------------------------------------


def test_declining_records_the_reason_and_alerts_the_owner(policy_admin, reviewer, employee):
    policy = new_policy(policy_admin)
    version = published(policy, policy_admin, reviewer)
    with pytest.raises(PolicyError, match="why you decline"):
        services.decline(version=version, user=employee, reason="  ")
    declined = services.decline(
        version=version, user=employee, reason="Section 2 forbids my side job."
    )
    assert Decline.objects.get() == declined
    assert (declined.person, declined.version, declined.reason) == (
        employee,
        version,
        "Section 2 forbids my side job.",
    )
    assignment = assignment_of(employee, policy)
    assert (assignment.status, assignment.completed_at) == (Declined, declined.at)
    alert = Notification.objects.get(kind="policy-declined")
    assert (alert.recipient, alert.subject, alert.stage) == (policy_admin, declined, "declined")
    assert alert.status == Notification.Status.PLANNED and not alert.digest  # urgent


# --- publishing to many people ------------------------------------------------------------


def _publish_counting(policy, author, approver) -> tuple[int, int, PolicyVersion]:
    version = approved(policy, author, approver)
    with CaptureQueriesContext(connection) as queries:
        services.publish(version=version, user=approver)
    inserts = sum(
        1 for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")
    )
    return len(queries.captured_queries) - inserts, inserts, version


def _insert_batches(model, rows: int) -> int:
    """INSERT statements for `rows` rows at the services' batch size of 1000 (fewer rows
    per statement where the database limits the parameters, as SQLite does)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    batch = min(1000, connection.ops.bulk_batch_size(fields, [None] * rows) or 1000)
    return -(-rows // batch)


def test_publishing_to_10000_people_takes_a_bounded_number_of_queries(
    django_user_model, policy_admin, reviewer
):
    def add_people(start, stop):
        django_user_model.objects.bulk_create(
            django_user_model(email=f"p{i}@example.com", full_name=f"P {i}")
            for i in range(start, stop)
        )

    ContentType.objects.get_for_model(Assignment)  # a warm cache for both rounds
    add_people(0, 5)
    reads_few, inserts_few, few = _publish_counting(
        new_policy(policy_admin), policy_admin, reviewer
    )
    # One event, one INSERT of assignments, one of "policy-published" reminders.
    assert inserts_few == 3
    assert Assignment.objects.filter(version=few).count() == 7

    add_people(5, 10_000)
    people = len(active_ids(django_user_model))
    assert people == 10_002
    reads_many, inserts_many, many = _publish_counting(
        new_policy(policy_admin), policy_admin, reviewer
    )
    # Reads do not grow with the audience; writes are one INSERT per batch.
    assert reads_many == reads_few
    assert inserts_many <= 1 + _insert_batches(Assignment, people) + _insert_batches(
        Notification, people
    )
    assert Assignment.objects.filter(version=many, status=Open).count() == people
    assert (
        Notification.objects.filter(
            kind="policy-published",
            subject_id__in=Assignment.objects.filter(version=many).values("pk"),
        ).count()
        == people
    )
