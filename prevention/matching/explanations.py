"""The generic checks' names and explanations, as employees read them, and how any
finding's label and explanation are shown in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from incidents.models import Incident
from prevention.matching.findings import UNNAMED_PATTERN, WATCH_TERM, Finding

Information = Incident.Information
Severity = Incident.Severity

EMAIL = "email"
PHONE = "phone"
IBAN = "iban"
CARD = "card"
DISCLOSURE = "disclosure"


@dataclass(frozen=True)
class GenericCheck:
    rule: str
    label: str
    category: str
    severity: str
    explanation: str

    def finding(self, text: str, start: int, end: int) -> Finding:
        return Finding(
            rule=self.rule,
            label=self.label,
            found=text[start:end],
            start=start,
            end=end,
            explanation=self.explanation,
            category=str(self.category),
            severity=str(self.severity),
        )


CHECKS = {
    EMAIL: GenericCheck(
        EMAIL,
        gettext_noop("Email address"),
        Information.PERSONAL,
        Severity.MEDIUM,
        gettext_noop(
            "This looks like an email address. Someone's address, a colleague's or a "
            "customer's, is their personal data: posting it shares it without their "
            "consent and invites spam and phishing. Leave it out, or point people to a "
            "public contact page."
        ),
    ),
    PHONE: GenericCheck(
        PHONE,
        gettext_noop("Phone number"),
        Information.PERSONAL,
        Severity.MEDIUM,
        gettext_noop(
            "This looks like a phone number. A personal or customer phone number is "
            "personal data: in public it exposes someone to calls, scams and harassment. "
            "Leave it out; for business contact, link to the public contact page."
        ),
    ),
    IBAN: GenericCheck(
        IBAN,
        gettext_noop("Bank account number (IBAN)"),
        Information.PERSONAL,
        Severity.HIGH,
        gettext_noop(
            "This is a valid bank account number (IBAN: its check digits add up). An "
            "account number in public helps fraudsters, whoever it belongs to. Take it "
            "out; if it came from a document or a screenshot, check what else that shows."
        ),
    ),
    CARD: GenericCheck(
        CARD,
        gettext_noop("Payment card number"),
        Information.PERSONAL,
        Severity.CRITICAL,
        gettext_noop(
            "This looks like a payment card number (a card network's prefix, and it passes "
            "the card checksum). A card number must never be posted: it can be used for "
            "fraud at once. Take it out, and if it is a real card, report it so that it "
            "can be blocked."
        ),
    ),
    DISCLOSURE: GenericCheck(
        DISCLOSURE,
        gettext_noop("Where you work, with internal matters"),
        Information.CONFIDENTIAL,
        Severity.MEDIUM,
        gettext_noop(
            "You say where you work and, close by, something about its plans or internal "
            "business. Together they read as an insider speaking for the company, and can "
            "make unannounced news or confidential matters public. Leave out the internal "
            "detail, or choose Ask comms before posting."
        ),
    ),
}


def shown_label(rule: str, label: str) -> str:
    """A finding's label in the reader's language: a generic check's name, or the name
    of a pattern without one, are the product's words; a watch-list entry's name is its
    keepers' and is shown as they wrote it."""
    if rule in CHECKS or (rule == WATCH_TERM and label == UNNAMED_PATTERN):
        return _(label)
    return label


def shown_explanation(rule: str, explanation: str) -> str:
    """A finding's explanation in the reader's language (a generic check's; a watch-list
    entry's is its keepers' words)."""
    return _(explanation) if rule in CHECKS and explanation else explanation
