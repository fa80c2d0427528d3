"""The acknowledgement chain: tamper evidence, the verify command and page, and people
acknowledging at the same moment."""

import io
import itertools
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from people import roles
from policies import services
from policies.models import Acknowledgement, ChainHead, PolicyError, sha256_text
from tests.support import ROOT, worker_env

BODY = "## Rules\nNever share unpublished figures.\n"
META = {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (tests)"}
_titles = itertools.count(1)


@pytest.fixture
def reviewer(make_person):
    return make_person(full_name="Ravi Patel", group=roles.POLICY_ADMIN)


def publish_policy(author, approver, **fields):
    policy = services.create_policy(title=f"Chained policy {next(_titles)}", owner=author, **fields)
    version = services.create_draft(policy=policy, author=author, body=BODY)
    services.submit_for_review(version=version, user=author)
    services.approve(version=version, user=approver)
    return services.publish(version=version, user=approver)


def acknowledge(version, person, **meta):
    return services.acknowledge(
        version=version, user=person, full_name=person.full_name, request_meta=meta or META
    )


@pytest.fixture
def chain(make_person, policy_admin, reviewer):
    """Three acknowledgements (#1, #2, #3) by three people; #2 on behalf, with a quiz score
    field left empty, so that every field has a value to alter."""
    people = [make_person(full_name=f"Chain Person {i}") for i in range(3)]
    version = publish_policy(policy_admin, reviewer)
    first = acknowledge(version, people[0])
    second = services.acknowledge_on_behalf(
        version=version, person=people[1], by=policy_admin, reason="Signed on paper"
    )
    third = acknowledge(version, people[2])
    return [first, second, third]


def verdict():
    return services.verify_chain()


# --- verification -----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_empty_chain_is_intact():
    result = verdict()
    assert (result.ok, result.checked, result.first_broken) == (True, 0, None)


@pytest.mark.django_db
def test_a_clean_chain_is_intact(chain):
    result = verdict()
    assert result.ok and result.checked == 3 and result.first_broken is None
    assert result.message == "All 3 acknowledgements are intact."
    first, second, third = (Acknowledgement.objects.get(pk=a.pk) for a in chain)
    assert first.previous_hash == services.GENESIS_HASH
    assert second.previous_hash == first.record_hash
    assert third.previous_hash == second.record_hash
    assert ChainHead.objects.get().last_hash == third.record_hash


@pytest.mark.django_db
def test_each_record_hash_covers_its_predecessor_and_its_own_fields(chain):
    record = Acknowledgement.objects.get(sequence=2)
    assert record.record_hash == sha256_text(
        record.previous_hash + "\n" + services.canonical_record(record)
    )
    assert record.person.full_name in services.canonical_record(record)


def altered_values(chain, policy_admin, reviewer):
    """A different value for every stored field of record #2."""
    other_version = publish_policy(policy_admin, reviewer)
    record = chain[1]
    return {
        "sequence": 99,
        "person": policy_admin.pk,
        "version": other_version.pk,
        "acknowledged_at": record.acknowledged_at + timedelta(seconds=1),
        "typed_name": "Somebody Else",
        "ip_address": "198.51.100.23",
        "user_agent": "curl/8.0",
        "text_sha256": sha256_text("Another text"),
        "method": Acknowledgement.Method.WEB,
        "on_behalf_by": reviewer.pk,
        "on_behalf_reason": "Changed afterwards",
        "quiz_score": 100,
        "language": "de",
        "previous_hash": "f" * 64,
        "record_hash": "e" * 64,
    }


FIELDS = [
    "sequence",
    "person",
    "version",
    "acknowledged_at",
    "typed_name",
    "ip_address",
    "user_agent",
    "text_sha256",
    "method",
    "on_behalf_by",
    "on_behalf_reason",
    "quiz_score",
    "language",
    "previous_hash",
    "record_hash",
]


def test_the_fields_list_covers_every_stored_field_but_the_id():
    stored = {f.name for f in Acknowledgement._meta.concrete_fields if not f.primary_key}
    assert stored == set(FIELDS)


@pytest.mark.django_db
@pytest.mark.parametrize("field", FIELDS)
def test_altering_any_field_of_a_record_names_that_record(field, chain, policy_admin, reviewer):
    value = altered_values(chain, policy_admin, reviewer)[field]
    column = field + "_id" if field in ("person", "version", "on_behalf_by") else field
    # QuerySet.update: straight to the database, past Acknowledgement.save().
    assert Acknowledgement.objects.filter(pk=chain[1].pk).update(**{column: value}) == 1
    result = verdict()
    assert not result.ok
    assert result.first_broken == 2
    assert "#2" in result.message
    assert result.checked == 1  # #1 is still fine


@pytest.mark.django_db
@pytest.mark.parametrize("position", [0, 2])
def test_altering_the_first_or_the_last_record_is_caught(position, chain):
    Acknowledgement.objects.filter(pk=chain[position].pk).update(typed_name="Somebody Else")
    result = verdict()
    assert not result.ok and result.first_broken == position + 1
    assert result.message == f"Record #{position + 1} was altered after it was written."


@pytest.mark.django_db
def test_a_record_rewritten_with_a_fresh_hash_breaks_the_link_to_the_next(chain):
    # A careful forger recomputes #2's own hash; #3 still points at the old one.
    record = Acknowledgement.objects.get(sequence=2)
    record.typed_name = "Somebody Else"
    forged = services.record_hash(record)
    Acknowledgement.objects.filter(pk=record.pk).update(
        typed_name="Somebody Else", record_hash=forged
    )
    result = verdict()
    assert not result.ok and result.first_broken == 3
    assert result.message == "Record #3 does not follow record #2."


@pytest.mark.django_db
def test_the_last_record_rewritten_with_a_fresh_hash_is_caught_by_the_head(chain):
    # Nothing follows the last record, so only the head (which keeps the last hash
    # written) can tell; the verdict still names the record, not one that never was.
    record = Acknowledgement.objects.get(sequence=3)
    record.typed_name = "Somebody Else"
    Acknowledgement.objects.filter(pk=record.pk).update(
        typed_name="Somebody Else", record_hash=services.record_hash(record)
    )
    result = verdict()
    assert not result.ok and result.first_broken == 3 and result.checked == 2
    assert result.message.startswith("Record #3 was altered after it was written")


@pytest.mark.django_db
def test_a_record_added_behind_the_services_back_is_caught_by_the_head(chain, make_person):
    # A well-formed record, chained to the last one, but not written by _append.
    last = Acknowledgement.objects.get(sequence=3)
    forged = Acknowledgement(
        sequence=4,
        person=make_person(),
        version=last.version,
        acknowledged_at=last.acknowledged_at + timedelta(minutes=1),
        typed_name="Forged Person",
        text_sha256=last.text_sha256,
        previous_hash=last.record_hash,
    )
    forged.record_hash = services.record_hash(forged)
    forged.save()
    result = verdict()
    assert not result.ok and result.first_broken == 4 and result.checked == 3
    assert result.message.startswith("Record #4 was not written by PolicyHub")


@pytest.mark.django_db
def test_deleting_a_middle_record_names_the_missing_sequence(chain):
    Acknowledgement.objects.filter(sequence=2).delete()
    result = verdict()
    assert not result.ok and result.first_broken == 2
    assert result.message == "Record #2 is missing (the next one is #3)."


@pytest.mark.django_db
def test_deleting_a_record_with_raw_sql_is_caught(chain):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Acknowledgement._meta.db_table} WHERE sequence = %s", [1])
    result = verdict()
    assert not result.ok and result.first_broken == 1
    assert result.message == "Record #1 is missing (the next one is #2)."


@pytest.mark.django_db
def test_deleting_the_last_record_is_caught_by_the_head(chain):
    Acknowledgement.objects.filter(sequence=3).delete()
    result = verdict()
    assert not result.ok and result.first_broken == 3
    assert result.message == ("Record #3 is missing: the chain ends at #2 but 3 were written.")


@pytest.mark.django_db
def test_deleting_every_record_is_caught_by_the_head(chain):
    Acknowledgement.objects.all().delete()
    result = verdict()
    assert not result.ok and result.first_broken == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ip_address", ["2001:0DB8:0000:0000:0000:0000:0000:0001", "::ffff:192.0.2.1", "192.0.2.44"]
)
def test_addresses_are_hashed_as_they_are_stored(ip_address, make_person, policy_admin, reviewer):
    # The database keeps an IPv6 address in its short form; the hash must cover that
    # form, or the chain would look altered the next time it is read.
    person = make_person()
    version = publish_policy(policy_admin, reviewer)
    acknowledge(version, person, ip_address=ip_address, user_agent="")
    assert verdict().ok


# --- records cannot be changed or deleted through the ORM -------------------------------


@pytest.mark.django_db
def test_a_saved_acknowledgement_cannot_be_changed_or_deleted(chain):
    record = Acknowledgement.objects.get(sequence=2)
    record.typed_name = "Somebody Else"
    with pytest.raises(PolicyError, match="never changed"):
        record.save()
    with pytest.raises(PolicyError, match="never deleted"):
        record.delete()
    stored = Acknowledgement.objects.get(sequence=2)
    assert stored.typed_name == "Chain Person 1"
    assert Acknowledgement.objects.count() == 3 and verdict().ok


# --- the command ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_says_ok_with_the_count(chain):
    out = io.StringIO()
    call_command("verify_acknowledgements", stdout=out)
    assert out.getvalue() == "OK: all 3 acknowledgements are intact.\n"


@pytest.mark.django_db
def test_the_command_fails_naming_the_first_broken_record(chain):
    Acknowledgement.objects.filter(sequence=2).update(user_agent="curl/8.0")
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_acknowledgements", stdout=out)
    assert "Record #2 was altered after it was written." in str(failed.value)
    assert out.getvalue() == ""


def _run_command() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "verify_acknowledgements"],
        cwd=ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_command_exit_status_both_ways(chain):
    intact = _run_command()
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip() == "OK: all 3 acknowledgements are intact."

    Acknowledgement.objects.filter(sequence=3).delete()
    broken = _run_command()
    assert broken.returncode != 0
    assert broken.stdout == ""
    assert "Record #3 is missing" in broken.stderr


# --- the site admins' page --------------------------------------------------------------

URL = reverse("policies:verify")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", ["employee", "manager", "comms", "hr", "policy_admin", "leader", "outsider"]
)
def test_the_verify_page_is_for_site_admins_only(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403


@pytest.mark.django_db
def test_the_verify_page_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_the_verify_page_shows_the_verdict_both_ways(client, site_admin, chain):
    client.force_login(site_admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert "OK: all 3 acknowledgements are intact." in page.content.decode()

    Acknowledgement.objects.filter(sequence=2).update(typed_name="Somebody Else")
    page = client.get(URL).content.decode()
    assert "The chain is broken at record #2." in page
    assert "Record #2 was altered after it was written." in page
    assert "OK:" not in page


# --- concurrency ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_people_acknowledging_at_the_same_moment_never_fork_the_chain(
    make_person, policy_admin, reviewer
):
    people = [make_person(full_name=f"Concurrent Person {i}") for i in range(8)]
    # Several policies: acknowledgements of different versions share nothing but the
    # chain's head, so the head's lock is what makes them take turns.
    versions = [publish_policy(policy_admin, reviewer) for _ in range(4)]
    barrier = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def acknowledge_at_once(person, version):
        try:
            barrier.wait(timeout=60)
            acknowledge(version, person)
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=acknowledge_at_once, args=(person, versions[i % len(versions)]))
        for i, person in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    result = verdict()
    assert result.ok, result.message
    assert result.checked == len(people)
    assert list(Acknowledgement.objects.values_list("sequence", flat=True)) == list(
        range(1, len(people) + 1)
    )
    assert set(Acknowledgement.objects.values_list("person_id", flat=True)) == {
        p.pk for p in people
    }
    assert ChainHead.objects.get().sequence == len(people)
