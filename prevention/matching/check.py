"""The check: everything a text would be flagged for."""

from __future__ import annotations

from prevention.matching.detectors import generic_findings
from prevention.matching.findings import Finding, finding_order
from prevention.matching.watch_list import WatchList, current_watch_list


def check_text(
    text: str, *, watch_list: WatchList | None = None, generic: bool = True
) -> list[Finding]:
    """Everything the check finds in `text`: the watch list's findings (the current one
    unless given) and, with `generic`, personal data and disclosures; sorted by start,
    one finding per rule, entry and place."""
    if watch_list is None:
        watch_list = current_watch_list()
    findings = watch_list.match(text)
    if generic:
        findings += generic_findings(text)
        findings.sort(key=finding_order)
    return findings
