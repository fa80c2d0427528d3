"""The matcher: what in a text the watch list (and a few generic checks) would flag.

"Check a post", "Ask comms" and the intake of feeds and webhooks all call this package;
nothing here is stored or logged with the text itself. Only the watch list is cached.

Where to look:
- check.py: check_text(), the one call the pages and the intake make;
- findings.py: Finding, what a check reports;
- limits.py: how long a text, a term or a pattern may be, and how long a pattern may run;
- words.py: how texts and watch-list terms (kind "term") are cut into words and compared:
  whole words, case and accents folded, plurals, hashtags and handles;
- patterns.py: how watch-list regular expressions (kind "pattern") are run;
- watch_list.py: WatchList, the watch list compiled for matching, and
  current_watch_list(), the live one, cached until an entry changes;
- detectors.py: the generic checks (email addresses, phone numbers, IBANs, payment cards,
  "I work at … and we're about to …" disclosures);
- explanations.py: the generic checks' names and explanations, and how a finding's label
  and explanation are shown in the reader's language;
- validation.py: what the watch-list pages refuse as a term or a pattern.

What the rest of PolicyHub uses is importable from here:
`from prevention.matching import check_text, current_watch_list, Finding`.
"""

from prevention.matching.check import check_text
from prevention.matching.detectors import generic_findings
from prevention.matching.explanations import shown_explanation, shown_label
from prevention.matching.findings import UNNAMED_PATTERN, WATCH_TERM, Finding
from prevention.matching.limits import MAX_PATTERNS, MAX_TEXT_CHARS
from prevention.matching.validation import validate_pattern, validate_term
from prevention.matching.watch_list import WatchList, current_watch_list, forget_current_watch_list
from prevention.matching.words import normalise_term

__all__ = [
    "MAX_PATTERNS",
    "MAX_TEXT_CHARS",
    "UNNAMED_PATTERN",
    "WATCH_TERM",
    "Finding",
    "WatchList",
    "check_text",
    "current_watch_list",
    "forget_current_watch_list",
    "generic_findings",
    "normalise_term",
    "shown_explanation",
    "shown_label",
    "validate_pattern",
    "validate_term",
]
