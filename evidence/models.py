"""The manifest of the PDF evidence PolicyHub has issued.

A PDF cannot hold its own SHA-256, so the hash lives here, server-side: each issued
document has a row with its document id (printed on every page of the PDF), what it is,
who had it made and when, and the SHA-256 and size of its exact bytes. The file itself is
not kept (it would be one more copy of personal data): anyone holding it can have it
checked on the verification page, and a new one can be issued at any time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class EvidenceError(Exception):
    """A document that cannot be issued; the message is for people."""


class EvidenceDocument(models.Model):
    class Kind(models.TextChoices):
        RECEIPT = "receipt", gettext_lazy("Acknowledgement receipt")
        EVIDENCE_PACK = "evidence_pack", gettext_lazy("Evidence pack")
        CLOSURE_REPORT = "closure_report", gettext_lazy("Incident closure report")

    reference = models.CharField(gettext_lazy("document id"), max_length=20, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The acknowledgement, policy version or incident the document is about.
    subject_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=300)
    # A closure report with the individual assessments: for HR/legal and the owner only.
    restricted = models.BooleanField(default=False)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    size = models.PositiveBigIntegerField(help_text=gettext_lazy("Bytes."))
    pages = models.PositiveIntegerField()
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    generated_at = models.DateTimeField()

    class Meta:
        ordering = ["-generated_at", "-id"]
        verbose_name = gettext_lazy("issued document")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["receipt", "evidence_pack", "closure_report"]),
                name="evidence_document_kind_known",
            ),
        ]
        indexes = [models.Index(fields=["kind", "subject_id"], name="evidence_subject_idx")]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def save(self, *args, **kwargs):
        # The manifest is what an issued file is checked against: a row is written once.
        if self.pk is not None:
            raise EvidenceError(_("An issued document's record is never changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EvidenceError(_("An issued document's record is never deleted."))
