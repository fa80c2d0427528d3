"""Issuing PDF evidence: each document gets a document id, is built, and its SHA-256
and size go into the manifest (EvidenceDocument) before the file is handed out.

The caller has checked that the person may have the document (evidence.views, through
each app's permission helpers). Building happens outside any transaction: an evidence
pack for 10,000 people takes seconds, and no lock is held meanwhile.

A document is written in its requester's language (the page's language: theirs when they
chose one), dates too. The title kept in the manifest is written in the site's language,
as every record that other people read later: the list of issued documents and the check
page show it to whoever asks, whatever language the file itself is in.

Time is an argument: each `issue_*` takes `now`, the moment the document is issued (the
clock when not given), so the demo and the bench issue documents without patching it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from evidence import documents
from evidence.models import EvidenceDocument, EvidenceError
from evidence.pdf import EvidencePDF, Stamp
from incidents.models import Incident
from policies.models import Acknowledgement, PolicyVersion

Kind = EvidenceDocument.Kind
# Crockford's base32: no I, L, O or U, so a document id read aloud or retyped from paper
# is not misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Issued:
    document: EvidenceDocument
    content: bytes
    filename: str


def new_reference() -> str:
    """A document id nobody can guess from another (60 random bits), e.g.
    EV-7K2M-P9QD-41XA."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(12))
        reference = f"EV-{code[:4]}-{code[4:8]}-{code[8:]}"
        if not EvidenceDocument.objects.filter(reference=reference).exists():
            return reference


def _issue(
    *,
    kind: str,
    subject_id: int,
    title: Callable[[], str],
    restricted: bool = False,
    user,
    verify_url: str,
    tz: tzinfo,
    language: str | None,
    build: Callable[[Stamp], EvidencePDF],
    filename: str,
    now: datetime | None,
) -> Issued:
    now = now or timezone.now()
    stamp = Stamp(reference=new_reference(), issued_at=now, verify_url=verify_url, tz=tz)
    with translation.override(document_language(user, language)):
        content, pages = build(stamp).finish()
    with translation.override(settings.LANGUAGE_CODE):
        title = title()
    with transaction.atomic():
        document = EvidenceDocument.objects.create(
            reference=stamp.reference,
            kind=kind,
            subject_id=subject_id,
            title=title[:300],
            restricted=restricted,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            pages=pages,
            generated_by=user,
            generated_at=stamp.issued_at,
        )
    return Issued(document=document, content=content, filename=f"{filename}-{stamp.reference}.pdf")


def document_language(user, language: str | None = None) -> str:
    """The language a document for `user` is written in: `language` (the page's, as the
    views pass it), else the person's own, else the language active now."""
    return (
        language
        or getattr(user, "language", "")
        or translation.get_language()
        or settings.LANGUAGE_CODE
    )


def issue_receipt(
    *,
    acknowledgement: Acknowledgement,
    user,
    verify_url: str,
    tz: tzinfo,
    language: str | None = None,
    now: datetime | None = None,
) -> Issued:
    version = acknowledgement.version
    return _issue(
        kind=Kind.RECEIPT,
        subject_id=acknowledgement.pk,
        title=lambda: documents.receipt_title(acknowledgement),
        user=user,
        verify_url=verify_url,
        tz=tz,
        language=language,
        build=lambda stamp: documents.receipt(acknowledgement, stamp),
        filename=f"receipt-{slugify(version.policy.title)}-{version.number}"
        f"-{acknowledgement.sequence}",
        now=now,
    )


def issue_evidence_pack(
    *,
    version: PolicyVersion,
    user,
    verify_url: str,
    tz: tzinfo,
    language: str | None = None,
    now: datetime | None = None,
) -> Issued:
    if not version.is_locked:
        raise EvidenceError(
            _("Version %(version)s is not published: its evidence pack starts when it is.")
            % {"version": version.number}
        )
    return _issue(
        kind=Kind.EVIDENCE_PACK,
        subject_id=version.pk,
        title=lambda: documents.evidence_pack_title(version),
        user=user,
        verify_url=verify_url,
        tz=tz,
        language=language,
        build=lambda stamp: documents.evidence_pack(version, stamp),
        filename=f"evidence-pack-{slugify(version.policy.title)}-{version.number}",
        now=now,
    )


def issue_closure_report(
    *,
    incident: Incident,
    user,
    verify_url: str,
    tz: tzinfo,
    language: str | None = None,
    now: datetime | None = None,
) -> Issued:
    if incident.status != Incident.Status.CLOSED:
        raise EvidenceError(
            _("%(reference)s is not closed: its closure report can be issued once it is.")
            % {"reference": incident.reference}
        )
    assessments = documents.closure_assessments(user, incident)
    restricted = bool(assessments)
    return _issue(
        kind=Kind.CLOSURE_REPORT,
        subject_id=incident.pk,
        title=lambda: documents.closure_report_title(incident, restricted=restricted),
        restricted=restricted,
        user=user,
        verify_url=verify_url,
        tz=tz,
        language=language,
        build=lambda stamp: documents.closure_report(incident, user, stamp, assessments),
        filename=f"closure-report-{incident.reference.lower()}",
        now=now,
    )
