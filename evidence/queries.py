"""Reads for the evidence pages: the list of issued documents, and what the manifest
says about a file or a SHA-256."""

from __future__ import annotations

from dataclasses import dataclass

from evidence import permissions
from evidence.models import EvidenceDocument


def issued_documents(user):
    """The issued documents `user` may list, newest first, with who had each made."""
    return (
        permissions.visible_documents(user)
        .select_related("generated_by")
        .order_by("-generated_at", "-id")
    )


@dataclass(frozen=True)
class Verdict:
    """What PolicyHub says about a file: `document` when it issued exactly these bytes;
    otherwise `names_issued` tells whether the file names a document id that PolicyHub
    did issue (so the file is an issued document that was changed)."""

    document: EvidenceDocument | None
    claimed_reference: str = ""
    names_issued: bool = False

    @property
    def issued(self) -> bool:
        return self.document is not None


def verdict(*, sha256: str, claimed_reference: str = "") -> Verdict:
    document = EvidenceDocument.objects.select_related("generated_by").filter(sha256=sha256).first()
    if document is not None:
        return Verdict(document=document)
    names_issued = bool(
        claimed_reference and EvidenceDocument.objects.filter(reference=claimed_reference).exists()
    )
    return Verdict(document=None, claimed_reference=claimed_reference, names_issued=names_issued)
