import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceDocument

pytestmark = pytest.mark.django_db

ISSUED = reverse("evidence:issued")
Kind = EvidenceDocument.Kind


def _issue(kind, by, number, **fields):
    return EvidenceDocument.objects.create(
        reference=f"EV-TEST-{number:04d}-0000",
        kind=kind,
        subject_id=number,
        title=fields.pop("title", f"{kind} {number}"),
        sha256=f"{number:064x}",
        size=1000,
        pages=1,
        generated_by=by,
        generated_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def documents(employee, zoe, policy_admin, comms, hr):
    return {
        "employee_receipt": _issue(Kind.RECEIPT, employee, 1),
        "zoe_receipt": _issue(Kind.RECEIPT, zoe, 2),
        "pack": _issue(Kind.EVIDENCE_PACK, policy_admin, 3),
        "closure": _issue(Kind.CLOSURE_REPORT, comms, 4),
        "restricted": _issue(Kind.CLOSURE_REPORT, hr, 5, restricted=True),
    }


def _listed(client, user) -> set[str]:
    client.force_login(user)
    response = client.get(ISSUED)
    assert response.status_code == 200
    return {document.reference for document in response.context["page"].object_list}


def _refs(documents, *names) -> set[str]:
    return {documents[name].reference for name in names}


def test_an_employee_lists_only_the_documents_they_had_made(client, employee, documents):
    assert _listed(client, employee) == _refs(documents, "employee_receipt")


def test_policy_admins_list_every_receipt_and_pack_but_not_closure_reports(
    client, policy_admin, documents
):
    assert _listed(client, policy_admin) == _refs(
        documents, "employee_receipt", "zoe_receipt", "pack"
    )


@pytest.mark.parametrize("role", ["comms", "hr", "leader"])
def test_the_incident_team_and_leadership_list_every_closure_report(
    client, request, role, documents
):
    listed = _listed(client, request.getfixturevalue(role))
    assert _refs(documents, "closure", "restricted") <= listed
    assert not _refs(documents, "employee_receipt", "zoe_receipt", "pack") & listed


def test_site_admins_list_everything(client, site_admin, documents):
    assert _listed(client, site_admin) == {d.reference for d in documents.values()}


def test_the_list_shows_each_documents_id_kind_hash_and_maker(client, hr, documents):
    client.force_login(hr)
    page = client.get(ISSUED).content.decode()

    restricted = documents["restricted"]
    assert restricted.reference in page and restricted.sha256 in page
    assert "Incident closure report" in page and "Restricted" in page
    assert "Hannah Brooks" in page


def test_an_empty_list_says_where_documents_come_from(client, outsider):
    client.force_login(outsider)
    page = client.get(ISSUED).content.decode()
    assert "No documents have been issued yet." in page


def test_the_lists_query_count_does_not_grow_with_documents(
    client, policy_admin, make_person, django_assert_max_num_queries
):
    def issue(count, start):
        for number in range(start, start + count):
            _issue(Kind.RECEIPT, make_person(), number)

    issue(3, 0)
    client.force_login(policy_admin)
    with django_assert_max_num_queries(12) as few:
        client.get(ISSUED)
    issue(40, 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(ISSUED).content.decode()
    assert "1–25 of 43 documents" in page and "Page 1 of 2" in page
