"""What the matcher reports: a Finding per thing found, and how findings are ordered and
kept apart."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils.translation import gettext_noop

WATCH_TERM = "watch-term"
# What employees see a pattern as when it has no name (entries made before names; a
# pattern cannot be saved without one).
# Kept in English in findings (they are stored with reviews and intake items) and
# translated where they are shown (`shown_label`).
UNNAMED_PATTERN = gettext_noop("A pattern on the watch list")


@dataclass(frozen=True)
class Finding:
    """One thing found. What an employee may see of a watch-list entry is `label`,
    `found` (their own words), the explanation and the policy section: never the
    entry's text, which for a pattern can name every secret it guards, and for a term
    may differ from what they wrote ("Fang" found in "fangs")."""

    rule: str  # "watch-term", or a generic check: "email", "phone", "iban", "card", "disclosure"
    # For employees: the entry's name; for a term without one, the words found; for a
    # generic check, its name in words.
    label: str
    found: str  # the words as they stand in the text
    start: int  # offsets of `found` in the text given
    end: int
    explanation: str
    category: str  # Incident.Information
    severity: str  # Incident.Severity
    term_id: int | None = None
    policy_id: int | None = None
    policy_section: str = ""
    # For the watch list's keepers (intake's incidents): a term's text, a pattern's name.
    entry: str = ""

    def as_dict(self) -> dict:
        """For JSON fields (PostReview.findings, IntakeItem.matched)."""
        return asdict(self)


def without_overlaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One place per occurrence: of overlapping spans, the earliest (then longest)."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


def finding_order(finding: Finding):
    return (finding.start, finding.end, finding.rule, finding.label, finding.term_id or 0)
