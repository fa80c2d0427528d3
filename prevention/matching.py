"""The matcher: what in a text the watch list (and a few generic checks) would flag.

"Check a post", "Ask comms" and the intake of feeds and webhooks all call this module;
nothing here is stored or logged with the text itself.

Watch-list terms (kind "term")
------------------------------
A text and every term are cut into words the same way, and words are compared after
case folding and with accents taken off ("PROJECT ÁTLAS" is "project atlas"; "ß" is
"ss"). Matching is on whole words only: "Atlas" never matches "Atlassian" or "catalase".

- Words are runs of letters and digits; an apostrophe inside a word keeps it whole
  ("O'Brien"). Underscores and all other punctuation separate words.
- A term of several words matches those words in order with anything but letters and
  digits between them, up to ten characters: "Project Atlas" matches "project atlas",
  "Project-Atlas", "Project\\nAtlas", "project (atlas)".
- The last word of a term also matches its plural and possessive: "s", "es",
  "y" → "ies", and "'s" / "’s" ("Atlas's", "Atlases", "Atlas’", "companies" for
  "company"). Only the last word: "Project Atlases' launch" matches "Project Atlas".
- A term also matches a single word that is the term with its spaces taken out:
  "Project Atlas" matches "ProjectAtlas" and "projectatlas".
- A term written in camelCase or with digits ("ProjectAtlas", "Atlas2") also matches
  its parts written apart ("Project Atlas", "Atlas 2").

Hashtags and handles (`#ProjectAtlas`, `@atlas_team`): a `#` or `@` that does not follow
a letter or digit (so not an email address) starts a tag. A tag is split into parts at
underscores, between letters and digits, and at camelCase humps ("HTMLParser" is
"HTML", "Parser"; a tag longer than 100 characters is not split). A term matches a tag
when its words equal a run of the tag's parts ("Atlas" matches "@atlas_team",
"#AtlasLaunch" and "#Atlas2026"; "Project Atlas" matches "#ProjectAtlasLaunch"), or when
the term with its spaces taken out equals a run of parts joined together, or the whole
tag ("Project Atlas" matches "#projectatlas" and "@project_atlas"; "Atlas" does not
match "#atlaslaunch": in an all-lowercase tag there is no telling where words end). What
is found is then the whole tag ("#AtlasLaunch"), as it stands in the text. A term's own
`#` and `@` are ignored: the term "#ProjectAtlas" is the term "Project Atlas".

What a finding shows an employee (Finding.label) is the entry's name, or for a term
without one the words they wrote; never the term as kept, which may be another word
("Fang" is found in "fangs").

Plain words are not split at camelCase humps ("ProjectAtlas" without a `#` is one word,
which "Project Atlas" matches, but "Atlas" alone does not).

Patterns (kind "pattern")
-------------------------
A regular expression, run with the `regex` module, case-insensitive (with full case
folding) on a copy of the text with accents taken off (so it is accent-insensitive too;
accents in the pattern are taken off the same way). Findings point back into the
original text. An employee sees a pattern by its name, never the expression (which may
list every secret customer at once). Patterns are not limited to whole words: write
`\\b` for that. Each pattern has PATTERN_TIMEOUT_SECONDS per text; a pattern that runs
out of time on a text is skipped for that text (with a warning in the log naming the
entry, never the text), the rest of the check goes on. validate_pattern() refuses a
pattern that does not compile, is longer than 300 characters, can match an empty text,
repeats a group that itself repeats without bound (like `(a+)+`), or runs out of time on
a few adversarial probe texts. At most MAX_PATTERNS patterns should be live at once (the
watch-list pages refuse more); the matcher runs whatever it is given. All patterns are
first tried together as one alternation: on a text none of them matches (most texts) no
pattern runs alone.

Long texts
----------
Only the first MAX_TEXT_CHARS characters of a text are checked (cut back to the end of
the last whole word), so a 100,000-character webhook payload costs what a 20,000 one
does; findings' offsets still point into the text as given. NUL and other control
characters are not part of any word: they separate words, as a space does.

Generic checks (check_text with generic=True)
----------------------------------------------
Email addresses; phone numbers ("+" or "00" international forms of 9 to 15 digits;
national forms of 9 to 12 digits starting with 0 or an area code in brackets, or
written in three or more groups), not dates, runs of years, IP addresses, amounts of money or
numbers grouped in thousands; IBANs of a known country's length with a valid mod-97
checksum; payment card numbers (13 to 19 digits of a card network's prefix passing the
Luhn check); and "I work at … and we're about to …" disclosures: a first-person
statement of employment near (within the paragraph, about 200 characters) a mention of
internal matters (unannounced launches, layoffs, mergers, confidential figures). They
are conservative: a miss is likelier than a false alarm.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date

import regex
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from incidents.models import Incident
from prevention.models import PreventionError, WatchTerm

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 20_000  # longest text matched at once (drafts are limited to 10,000 by the form)
PATTERN_TIMEOUT_SECONDS = 0.05  # per pattern per text (regex module's timeout)
MAX_PATTERN_CHARS = 300
MAX_TERM_CHARS = 300
MAX_PATTERNS = 100  # live patterns the watch list should hold at most: each runs on every text
MAX_GAP = 10  # characters allowed between the words of a term
MAX_TAG_SPLIT = 100  # longer tags are one part (splitting is quadratic in the worst case)
MAX_TAG_RUN = 8  # parts of a tag joined together when comparing with a term's squashed form

Information = Incident.Information
Severity = Incident.Severity

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


# --- words -------------------------------------------------------------------------

_LETTER_OR_DIGIT = r"\p{L}\p{N}"
_TOKEN = regex.compile(
    r"""
    (?P<word>[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:['’ʼ][\p{L}\p{N}][\p{L}\p{N}\p{M}]*)*)
    |
    (?<![\p{L}\p{N}\p{M}_])                       # a tag starts a word: not an email's @
    (?P<tag>[\#@](?=[\p{M}_]*[\p{L}\p{N}])[\p{L}\p{N}\p{M}_]+)
    (?:['’ʼ][sS](?![\p{L}\p{N}\p{M}]))?           # "#Atlas's": the tag is "#Atlas"
    """,
    regex.VERBOSE,
)
# The same without groups, for findall(): words and tags as strings, fastest.
_TOKEN_TEXT = regex.compile(
    _TOKEN.pattern.replace("(?P<word>", "(?:").replace("(?P<tag>", "(?:"), regex.VERBOSE
)
# The parts of a tag (or of a term's word): an upper-case run before a capitalised word
# ("HTML" of "HTMLParser"), a word with at most one capital first, an upper-case run,
# digits.
_PART = regex.compile(
    r"""
      (?:[\p{Lu}\p{Lt}]\p{M}*)+(?=[\p{Lu}\p{Lt}]\p{M}*[\p{Ll}\p{Lm}\p{Lo}])
    | (?:[\p{Lu}\p{Lt}]\p{M}*)?(?:[\p{Ll}\p{Lm}\p{Lo}]\p{M}*)+
    | (?:[\p{Lu}\p{Lt}]\p{M}*)+
    | (?:\p{N}\p{M}*)+
    """,
    regex.VERBOSE,
)
_MARKS = regex.compile(r"\p{M}+")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})
_WORD_CHAR = regex.compile(r"[\p{L}\p{N}\p{M}_]")


# Nothing of a text checked is kept once its check is done: the words of a draft are
# worked out once per check in dictionaries of that check (a process-wide cache would
# keep recent drafts' words in memory, while "Check a post" promises to keep nothing).
# Only the watch list is cached (current_watch_list).


def _fold_slow(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold())
    return _MARKS.sub("", folded).translate(_APOSTROPHES)


def fold(word: str) -> str:
    """A word case-folded, accents off, apostrophes straight: how words are compared."""
    if word.isascii():
        return word.lower()
    return _fold_slow(word)


def _forms(word: str) -> tuple[str, ...]:
    """A folded word and what it would be without a possessive or plural ending."""
    forms = [word]
    base = word
    if base.endswith("'s") and len(base) > 2:
        base = base[:-2]
        forms.append(base)
    if len(base) >= 4 and base.endswith("ies"):
        forms.append(base[:-3] + "y")
    if len(base) >= 5 and base.endswith("es"):
        forms.append(base[:-2])
    if len(base) >= 4 and base.endswith("s") and not base.endswith("ss"):
        forms.append(base[:-1])
    return tuple(forms)


class _Words:
    """A text cut into folded words, each with its offsets in the text and, for the
    parts of a hashtag or handle, which tag it belongs to (-1 for a plain word)."""

    __slots__ = ("norms", "starts", "ends", "tags", "tag_spans")

    def __init__(self, text: str, end: int):
        norms, starts, ends, tags, tag_spans = [], [], [], [], []
        find, position = text.find, 0
        folded: dict[str, str] = {}  # this text's words with accents, folded once

        def fold_word(word: str) -> str:
            if word.isascii():
                return word.lower()
            value = folded.get(word)
            if value is None:
                value = folded[word] = _fold_slow(word)
            return value

        for token in _TOKEN_TEXT.findall(text, 0, end):
            # Between two tokens there is no letter or digit, so the token's text first
            # found from the end of the one before is where it was matched.
            start = find(token, position)
            position = start + len(token)
            if token[0] not in "#@":
                norms.append(fold_word(token))
                starts.append(start)
                ends.append(position)
                tags.append(-1)
                continue
            tag_start, tag_end = start, position
            if token[-2] in "'’ʼ":  # "#Atlas's": the tag is "#Atlas"
                tag_end -= 2
            tag = len(tag_spans)
            tag_spans.append((tag_start, tag_end))
            body = tag_start + 1
            if tag_end - body > MAX_TAG_SPLIT:
                pieces = [(body, tag_end)]
            else:
                pieces = [part.span() for part in _PART.finditer(text, body, tag_end)]
            for start, stop in pieces:
                norms.append(fold_word(text[start:stop]))
                starts.append(start)
                ends.append(stop)
                tags.append(tag)
        self.norms, self.starts, self.ends = norms, starts, ends
        self.tags, self.tag_spans = tags, tag_spans

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Offsets of words first..last, widened to whole tags."""
        start = self.starts[first]
        if self.tags[first] >= 0:
            start = self.tag_spans[self.tags[first]][0]
        end = self.ends[last]
        if self.tags[last] >= 0:
            end = self.tag_spans[self.tags[last]][1]
        return start, end


def _term_words(text: str) -> tuple[list[str], list[str]]:
    """A term's folded words as written (a tag's parts count as words), and the same
    split at camelCase humps and between letters and digits."""
    as_written, split = [], []
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "tag":
            tag_start, tag_end = match.span("tag")
            parts = [fold(p.group()) for p in _PART.finditer(text, tag_start + 1, tag_end)]
            as_written += parts
            split += parts
            continue
        word = match.group("word")
        as_written.append(fold(word))
        if "'" in word or "’" in word or "ʼ" in word or len(word) > MAX_TAG_SPLIT:
            split.append(fold(word))
        else:
            split += [fold(p.group()) for p in _PART.finditer(word)]
    return as_written, split


def _term_sequences(text: str) -> tuple[set[tuple[str, ...]], str]:
    """The word sequences a term matches and its squashed form (no spaces, no
    apostrophes); no sequences when it has no letters or digits."""
    as_written, split = _term_words(text)
    sequences = {tuple(words) for words in (as_written, split) if words}
    return sequences, "".join(as_written).replace("'", "")


def normalise_term(text: str) -> str:
    """A term's folded words, one space between them: two entries with the same normal
    form match the same texts ("Project  ÁTLAS", "project atlas", "#ProjectAtlas")."""
    return " ".join(_term_words(text)[1])


def _cut(text: str) -> int:
    """Where checking stops: MAX_TEXT_CHARS, moved back to a word's end."""
    if len(text) <= MAX_TEXT_CHARS:
        return len(text)
    cut = MAX_TEXT_CHARS
    floor = cut - MAX_TERM_CHARS
    while cut > floor and _WORD_CHAR.match(text, cut) and _WORD_CHAR.match(text, cut - 1):
        cut -= 1
    return cut if cut > floor else MAX_TEXT_CHARS


# --- accent-free copy for patterns -----------------------------------------------


class _Unaccented:
    """The text with accents taken off (NFKD, marks dropped) and a map back: `origin[i]`
    is the offset in the text of the character that gave character i of the copy."""

    __slots__ = ("text", "origin", "source")

    _NON_ASCII = regex.compile(r"[^\x00-\x7f]+")

    def __init__(self, source: str, end: int):
        self.source = source
        if source.isascii():
            self.text, self.origin = source[:end], None
            return
        pieces, origin, position = [], [], 0
        plain_of: dict[str, str] = {}  # this text's characters, unaccented once
        for run in self._NON_ASCII.finditer(source, 0, end):
            pieces.append(source[position : run.start()])
            origin.extend(range(position, run.start()))
            for offset in range(run.start(), run.end()):
                char = source[offset]
                plain = plain_of.get(char)
                if plain is None:
                    plain = plain_of[char] = _unaccent_char(char)
                pieces.append(plain)
                origin.extend([offset] * len(plain))
            position = run.end()
        pieces.append(source[position:end])
        origin.extend(range(position, end))
        self.text, self.origin = "".join(pieces), origin

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        first = self.origin[start]
        last = self.origin[end - 1] + 1
        # Marks that were dropped after the last character belong to it.
        while last < len(self.source) and unicodedata.category(self.source[last])[0] == "M":
            last += 1
        return first, last


def _unaccent_char(char: str) -> str:
    return _MARKS.sub("", unicodedata.normalize("NFKD", char))


def _unaccent_pattern(pattern: str) -> str:
    if pattern.isascii():
        return pattern
    return "".join(c if c.isascii() else _unaccent_char(c) for c in pattern)


PATTERN_FLAGS = regex.IGNORECASE | regex.FULLCASE | regex.V0


def _compile(pattern: str):
    return regex.compile(_unaccent_pattern(pattern), PATTERN_FLAGS)


# --- the watch list ------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    id: int | None
    kind: str
    text: str
    name: str
    category: str
    severity: str
    explanation: str
    policy_id: int | None
    policy_section: str

    def finding(self, text: str, start: int, end: int) -> Finding:
        found = text[start:end]
        if self.kind == WatchTerm.Kind.PATTERN:
            label = entry = self.name or UNNAMED_PATTERN
        else:
            label, entry = self.name or found, self.text
        return Finding(
            rule=WATCH_TERM,
            label=label,
            found=found,
            start=start,
            end=end,
            explanation=self.explanation,
            category=self.category,
            severity=self.severity,
            term_id=self.id,
            policy_id=self.policy_id,
            policy_section=self.policy_section or "",
            entry=entry,
        )


class WatchList:
    """The live watch list, compiled: an index of terms by their first word and by
    their squashed form, and the compiled patterns. Immutable; build it once with
    from_terms() (or take current_watch_list()) and match as many texts as needed."""

    __slots__ = ("_entries", "_single", "_multi", "_patterns", "_screen", "_unscreened")

    def __init__(self, entries, single, multi, patterns):
        self._entries: tuple[_Entry, ...] = entries
        # folded word (a one-word term, or any term squashed) -> entry indexes
        self._single: dict[str, tuple[int, ...]] = single
        # first folded word -> ((the other words...), entry index), terms of 2+ words
        self._multi: dict[str, tuple[tuple[tuple[str, ...], int], ...]] = multi
        self._patterns: tuple[tuple[int, object], ...] = patterns
        # One search with all patterns as alternatives finds, at about the cost of two
        # patterns, that none of them matches (most texts): then none is run alone.
        # Patterns whose meaning would change inside a bigger one (backreferences,
        # global flags...) are left out of it and always run.
        screened = [(i, c) for i, c in patterns if _screenable(entries[i].text)]
        self._screen = None
        if len(screened) > 1:
            alternatives = "|".join(f"(?:{c.pattern})" for _, c in screened)
            try:
                self._screen = regex.compile(alternatives, PATTERN_FLAGS)
            except (regex.error, ValueError, TypeError, OverflowError, RecursionError):
                self._screen = None
        kept = {i for i, _ in screened} if self._screen is not None else set()
        self._unscreened = tuple((i, c) for i, c in patterns if i not in kept)

    @classmethod
    def from_terms(cls, terms: Iterable) -> WatchList:
        """From WatchTerms, or any objects with id, kind, text, category, severity,
        explanation, policy_id and policy_section (and name). A term with no letters or
        digits and a pattern that does not compile are left out (with a warning)."""
        entries, single, multi, patterns = [], {}, {}, []
        for term in terms:
            entry = _Entry(
                id=getattr(term, "id", None),
                kind=str(term.kind),
                text=term.text,
                name=getattr(term, "name", "") or "",
                category=str(term.category),
                severity=str(term.severity),
                explanation=term.explanation or "",
                policy_id=getattr(term, "policy_id", None),
                policy_section=getattr(term, "policy_section", "") or "",
            )
            index = len(entries)
            if entry.kind == WatchTerm.Kind.PATTERN:
                try:
                    compiled = _compile(entry.text)
                except (regex.error, ValueError, TypeError, OverflowError):
                    logger.warning("Watch-list pattern %s does not compile; skipped", entry.id)
                    continue
                entries.append(entry)
                patterns.append((index, compiled))
                continue
            sequences, squashed = _term_sequences(entry.text)
            if not sequences:
                logger.warning("Watch-list term %s has no letters or digits; skipped", entry.id)
                continue
            entries.append(entry)
            keys = {squashed}
            for sequence in sequences:
                if len(sequence) == 1:
                    keys.add(sequence[0])
                else:
                    multi.setdefault(sequence[0], set()).add((sequence[1:], index))
            for key in keys:
                single.setdefault(key, set()).add(index)
        return cls(
            tuple(entries),
            {key: tuple(sorted(value)) for key, value in single.items()},
            {key: tuple(sorted(value)) for key, value in multi.items()},
            tuple(patterns),
        )

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def pattern_count(self) -> int:
        return len(self._patterns)

    def match(self, text: str) -> list[Finding]:
        """The watch list's findings in `text` (its first MAX_TEXT_CHARS characters),
        one per entry and place, sorted by where they start."""
        end = _cut(text)
        hits: dict[int, list[tuple[int, int]]] = {}
        if self._single or self._multi:
            self._match_words(_Words(text, end), hits)
        if self._patterns:
            self._match_patterns(text, end, hits)
        findings = []
        for index, spans in hits.items():
            entry = self._entries[index]
            for start, stop in _without_overlaps(spans):
                findings.append(entry.finding(text, start, stop))
        findings.sort(key=_order)
        return findings

    def _match_words(self, words: _Words, hits: dict) -> None:
        single, multi = self._single, self._multi
        norms, starts, ends, tags = words.norms, words.starts, words.ends, words.tags
        count = len(norms)
        forms_of: dict[str, tuple[str, ...]] = {}  # this text's words' forms, made once

        def forms(word: str) -> tuple[str, ...]:
            value = forms_of.get(word)
            if value is None:
                value = forms_of[word] = _forms(word)
            return value

        for i in range(count):
            norm = norms[i]
            for form in forms(norm):
                for index in single.get(form, ()):
                    hits.setdefault(index, []).append(words.span(i, i))
            tag = tags[i]
            if tag >= 0:
                # Parts of one tag joined: "#Project_Atlas" is "projectatlas".
                joined, j = norm, i + 1
                while j < count and tags[j] == tag and j - i < MAX_TAG_RUN:
                    joined += norms[j]
                    for form in forms(joined):
                        for index in single.get(form, ()):
                            hits.setdefault(index, []).append(words.span(i, j))
                    j += 1
            for rest, index in multi.get(norm, ()):
                last = i + len(rest)
                if last >= count:
                    continue
                for k in range(len(rest)):
                    at = i + 1 + k
                    if starts[at] - ends[at - 1] > MAX_GAP:
                        break
                    if k < len(rest) - 1:
                        if norms[at] != rest[k]:
                            break
                    elif rest[k] not in forms(norms[at]):
                        break
                else:
                    hits.setdefault(index, []).append(words.span(i, last))

    def _match_patterns(self, text: str, end: int, hits: dict) -> None:
        plain = _Unaccented(text, end)
        patterns = self._patterns
        if self._screen is not None:
            try:
                screened = self._screen.search(plain.text, timeout=2 * PATTERN_TIMEOUT_SECONDS)
            except TimeoutError:
                screened = True  # no telling: each pattern runs with its own time
            if screened is None:
                patterns = self._unscreened
        for index, compiled in patterns:
            deadline = time.perf_counter() + PATTERN_TIMEOUT_SECONDS
            position = 0
            try:
                while position <= len(plain.text):
                    remaining = deadline - time.perf_counter()
                    if remaining <= 0:
                        raise TimeoutError
                    match = compiled.search(plain.text, position, timeout=remaining)
                    if match is None:
                        break
                    start, stop = match.span()
                    if stop == start:  # an empty match flags nothing
                        position = stop + 1
                        continue
                    hits.setdefault(index, []).append(plain.span(start, stop))
                    position = stop
            except TimeoutError:
                logger.warning(
                    "Watch-list pattern %s ran out of time (%s s) on a text of %s characters;"
                    " skipped for that text",
                    self._entries[index].id,
                    PATTERN_TIMEOUT_SECONDS,
                    len(text),
                )


# What a pattern must not hold to be one alternative among others: a backreference or
# subroutine call (group numbers shift), a conditional, a branch reset, recursion, or a
# global inline flag such as (?x) that would apply to all the others.
_NOT_SCREENABLE = regex.compile(
    r"\\[1-9]|\\g|\(\?P?[=>&]|\(\?[+-]?\d|\(\?R\)|\(\?\||\(\?\(|\(\?\w+\)"
)


def _screenable(pattern: str) -> bool:
    return _NOT_SCREENABLE.search(pattern) is None


def _without_overlaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One place per occurrence: of overlapping spans, the earliest (then longest)."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


def _order(finding: Finding):
    return (finding.start, finding.end, finding.rule, finding.label, finding.term_id or 0)


# --- the current watch list, cached --------------------------------------------------

_cache_lock = threading.Lock()
_cached: tuple[tuple, WatchList] | None = None


def current_watch_list(*, today: date | None = None) -> WatchList:
    """The active entries not expired on `today` (the site's today by default), compiled.

    One aggregate query per call tells whether the watch list changed (the number of
    entries, the latest change, the latest id, the day); the entries are loaded and
    compiled again only when it did. Services that change an entry set its updated_at."""
    global _cached
    # The site's day, not the viewer's (the middleware activates each person's time
    # zone): one watch list for everyone, and an entry expires at the same moment for all.
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    state = WatchTerm.objects.aggregate(
        count=Count("id"), changed=Max("updated_at"), last=Max("id")
    )
    key = (state["count"], state["changed"], state["last"], today)
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _cache_lock:
        cached = _cached
        if cached is not None and cached[0] == key:
            return cached[1]
        live = (
            WatchTerm.objects.filter(active=True)
            .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
            .only(
                "id",
                "kind",
                "text",
                "name",
                "category",
                "severity",
                "explanation",
                "policy_id",
                "policy_section",
            )
            .order_by("id")
        )
        watch_list = WatchList.from_terms(live)
        _cached = (key, watch_list)
        return watch_list


def forget_current_watch_list() -> None:
    """Drop the cached watch list (the next call loads it again)."""
    global _cached
    _cached = None


# --- generic checks ------------------------------------------------------------------

EMAIL = "email"
PHONE = "phone"
IBAN = "iban"
CARD = "card"
DISCLOSURE = "disclosure"


@dataclass(frozen=True)
class _Check:
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
    EMAIL: _Check(
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
    PHONE: _Check(
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
    IBAN: _Check(
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
    CARD: _Check(
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
    DISCLOSURE: _Check(
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


_EMAIL_RE = regex.compile(
    r"(?<![\w.+\-])[\w+\-](?:[\w.+\-]{0,63})@[\w\-]+(?:\.[\w\-]+)*\.\p{L}{2,24}(?![\w\-@])"
)
_IBAN_RE = regex.compile(r"(?<![\w])[A-Z]{2}[0-9]{2}(?:\x20?[A-Z0-9]){11,32}", regex.IGNORECASE)
_CARD_RE = regex.compile(r"(?<![\w+.,/\-])\d(?:[\x20\-]?\d){12,18}(?![\w]|[.,/\-]\d)")
_PHONE_RE = regex.compile(
    r"(?<![\w+/.,%$€£¥₹\-])(?:\+\x20?|\()?\d[\d\x20\u00a0().\-]{6,26}\d(?![\w]|[.,:/\-]\d|\x20?%)"
)
_PHONE_SEPARATORS = regex.compile(r"[\x20\u00a0.\-]+")
_PHONE_DOUBLE_SEPARATOR = regex.compile(r"[\x20\u00a0.\-]{2,}")
_PARAGRAPH = regex.compile(r"\n[\x20\t\r]*\n")

# Country -> IBAN length (the SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

# "I work at …", "as an employee of …", "at my company …": someone says where they work.
_EMPLOYMENT_RE = regex.compile(
    r"""\b(?:
        i\s+(?:currently\s+|now\s+|still\s+|also\s+)?work\s+(?:at|for)\s
      | i(?:['’]m|\s+am)\s+(?:currently\s+|now\s+)?
        (?:employed\s+(?:at|by)|an?\s+employee\s+(?:of|at))\s
      | as\s+an?\s+(?:employee|insider|staff\s+member)\s+(?:of|at)\s
      | (?:at|in)\s+my\s+(?:company|employer|firm|workplace|job|office)\b
      | my\s+(?:employer|company|firm|boss|manager)\b
      | (?:i|we)\s+(?:both\s+)?work\s+here\b
      | our\s+company\b
    )""",
    regex.IGNORECASE | regex.VERBOSE,
)
_PLANS = "launch|announce|release|unveil|ship|acquire|buy|sell|merge|close|cut|restructure"
_DOING = (
    "launching|announcing|releasing|unveiling|shipping|acquiring|buying|selling|merging|"
    "closing|cutting|restructuring|reorgani[sz]ing|launch|announce|release|unveil"
)
# Something about the employer's internal matters: plans not announced, cuts, deals,
# confidential figures. Past tense and public news ("we launched", "we're hiring") are not.
_INTERNAL_RE = regex.compile(
    r"""\b(?:
        (?:we|they|company|it|team)(?:['’]re|['’]s|\s+are|\s+is)\s+(?:just\s+)?about\s+to\b
      | (?:going|planning|set)\s+to\s+(?:PLANS|lay\s+off|reorgani[sz]e)\b
      | (?:we|they)(?:['’]re|['’]ll|\s+are|\s+will)\s+(?:\w+\s+)?(?:DOING)\b
      | (?:internally|confidential|unannounced|codename|code\s+name|roadmap)\b
      | internal\s+(?:memo|e-?mail|document|plans?|news|figures|numbers|slides?|data|only)\b
      | not\s+(?:yet\s+)?(?:public|announced|official|released)\b
      | under\s+(?:nda|wraps)\b | nda\b | off\s+the\s+record | between\s+you\s+and\s+me
      | don['’]?t\s+tell | can['’]?t\s+say\s+(?:much|more) | leak(?:ed|ing)?\b
      | lay\s*-?\s*offs?\b | laying\s+off | redundanc(?:y|ies)\b | restructuring
      | merger\b | acquisition\b | takeover\b | buyout\b
      | (?:earnings|revenue|profits?|quarterly\s+(?:results|figures|numbers)|sales\s+figures)\b
    )""".replace("PLANS", _PLANS).replace("DOING", _DOING),
    regex.IGNORECASE | regex.VERBOSE,
)
_CARD_PREFIXES = (
    ("4",),
    tuple(str(n) for n in range(51, 56)),
    tuple(str(n) for n in range(2221, 2721)),
    ("34", "37", "30", "36", "38", "39", "35", "6011", "65", "62"),
    tuple(str(n) for n in range(644, 650)),
)
_CARD_PREFIXES = tuple(prefix for group in _CARD_PREFIXES for prefix in group)
_CURRENCY_BEFORE = set("$€£¥₹")
_CURRENCY_AFTER = regex.compile(
    r"[\x20\u00a0]?(?:[$€£¥₹%]|(?:eur|usd|gbp|chf|jpy|dollars?|euros?|pounds?|francs?)\b)",
    regex.IGNORECASE,
)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _iban_valid(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def _emails(text: str, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in _EMAIL_RE.finditer(text, 0, end)]


def _ibans(text: str, end: int) -> list[tuple[int, int]]:
    found, position = [], 0
    while True:
        match = _IBAN_RE.search(text, position, end)
        if match is None:
            return found
        position = match.start() + 1
        candidate = match.group().upper()
        length = IBAN_LENGTHS.get(candidate[:2])
        if length is None:
            continue
        chars, stop = [], match.start()
        for offset, char in enumerate(candidate):
            if char != " ":
                chars.append(char)
                if len(chars) == length:
                    stop = match.start() + offset + 1
                    break
        if len(chars) < length or (stop < len(text) and text[stop].isalnum()):
            continue
        if _iban_valid("".join(chars)):
            found.append((match.start(), stop))
            position = stop


def _cards(text: str, end: int) -> list[tuple[int, int]]:
    found = []
    for match in _CARD_RE.finditer(text, 0, end):
        candidate = match.group()
        separators = {char for char in candidate if not char.isdigit()}
        if len(separators) > 1:
            continue
        digits = candidate.replace(" ", "").replace("-", "")
        if len(set(digits)) == 1 or not digits.startswith(_CARD_PREFIXES):
            continue
        if _luhn(digits):
            found.append(match.span())
    return found


def _phone_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of a phone number candidate if it is one, else None."""
    if text[start] == "(" and text.count(")", start, end) == 0:
        start += 1  # "(020 7946 0958)": the bracket is the sentence's
    candidate = text[start:end]
    digits = sum(char.isdigit() for char in candidate)
    if not 9 <= digits <= 15:
        return None
    opening, closing = candidate.find("("), candidate.find(")")
    if candidate.count("(") > 1 or candidate.count("(") != candidate.count(")"):
        return None
    if opening > closing:
        return None
    body = candidate.lstrip("+").replace(" - ", "-").replace("(", " ").replace(")", " ")
    body = " ".join(body.split())
    if _PHONE_DOUBLE_SEPARATOR.search(body):
        return None
    groups = [group for group in _PHONE_SEPARATORS.split(body) if group]
    separators = set(_PHONE_SEPARATORS.findall(body))
    if "." in "".join(separators):
        # 01.23.45.67.89, but not 3.14159265 or an IP address
        if separators != {"."} or body.count(".") < 2:
            return None
        if len(groups) == 4 and all(len(group) <= 3 for group in groups):
            return None
    if len(groups) > 1 and all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):
        return None  # years: "2019 2020 2021"
    before = text[max(0, start - 6) : start].rstrip()
    if before and (before[-1] in _CURRENCY_BEFORE or before.lower().endswith("isbn")):
        return None
    if _CURRENCY_AFTER.match(text, end):
        return None
    if candidate.startswith(("+", "00")):
        return start, end
    if digits > 12:  # national numbers are shorter: this is an account or reference number
        return None
    if candidate.startswith("("):
        return start, end
    if candidate.startswith("0"):
        return (start, end) if len(groups) > 1 or 10 <= digits <= 11 else None
    # Written in groups without a trunk prefix: 415 555 2671, but not 100 000 000.
    thousands = len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])
    return (start, end) if len(groups) >= 3 and not thousands else None


def _phones(text: str, end: int) -> list[tuple[int, int]]:
    spans = (_phone_span(text, *m.span()) for m in _PHONE_RE.finditer(text, 0, end))
    return [span for span in spans if span]


def _disclosures(text: str, end: int) -> list[tuple[int, int]]:
    found = []
    for employment in _EMPLOYMENT_RE.finditer(text, 0, end):
        low = max(0, employment.start() - 200)
        high = min(end, employment.end() + 200)
        # Within the paragraph only.
        for paragraph in _PARAGRAPH.finditer(text, low, high):
            if paragraph.end() <= employment.start():
                low = paragraph.end()
            elif paragraph.start() >= employment.end():
                high = paragraph.start()
                break
        cues = list(_INTERNAL_RE.finditer(text, low, high))
        if not cues:
            continue
        nearest = min(cues, key=lambda cue: abs(cue.start() - employment.start()))
        found.append(
            (min(employment.start(), nearest.start()), max(employment.end(), nearest.end()))
        )
    return found


def generic_findings(text: str) -> list[Finding]:
    """The generic checks' findings (no watch list), sorted by start."""
    limit = _cut(text)
    findings = []
    # Places already reported, sorted and not overlapping: (starts, ends).
    starts: list[int] = []
    ends: list[int] = []
    for rule, spans in (
        (IBAN, _ibans(text, limit)),
        (CARD, _cards(text, limit)),
        (EMAIL, _emails(text, limit)),
        (PHONE, _phones(text, limit)),
    ):
        for start, end in _without_overlaps(spans):
            at = bisect.bisect_left(starts, end)
            if at and ends[at - 1] > start:
                continue  # inside a number already reported as something stronger
            starts.insert(at, start)
            ends.insert(at, end)
            findings.append(CHECKS[rule].finding(text, start, end))
    for span in _without_overlaps(_disclosures(text, limit)):
        findings.append(CHECKS[DISCLOSURE].finding(text, *span))
    findings.sort(key=_order)
    return findings


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
        findings.sort(key=_order)
    return findings


# --- validation ----------------------------------------------------------------------

_PROBE_CHARS = "a0 _x.@#-"
_PROBE_PROSE = (
    "We are thrilled to share that our team in Berlin shipped version 2.4 today, 40% "
    "faster! Call +44 20 7946 0958 or write to press@example.com. #launch @team_atlas\n"
)


def _probes(pattern: str) -> list[str]:
    """Texts that make a badly written pattern backtrack for ever: runs of one
    character (each literal of the pattern, and a few common ones) ending in a
    character that breaks the match, alternations of two, and a long page of prose."""
    chars = {c for c in pattern if c.isalnum() or c in " _-.@#"} | set(_PROBE_CHARS)
    chars = sorted(chars)[:40]
    probes = []
    for char in chars:
        probes.append(char * 40 + "\x00")
        probes.append(char * 1000 + "\x00!")
    for first, second in zip(chars, chars[1:], strict=False):
        probes.append((first + second) * 30 + "\x00")
    probes.append(_PROBE_PROSE * (MAX_TEXT_CHARS // len(_PROBE_PROSE)))
    return probes


_QUANTIFIER = regex.compile(r"[*+?]|\{\d*(?:,\d*)?\}")


def _repeats_without_bound(quantifier: str) -> bool:
    if quantifier in ("*", "+"):
        return True
    if quantifier.startswith("{"):
        inside = quantifier[1:-1]
        return "," in inside and inside.split(",", 1)[1] == ""
    return False


def _nested_repetition(pattern: str) -> bool:
    """Whether a group that repeats without bound holds something that also repeats
    without bound, like (a+)+ or (\\w+\\s?)*: such a pattern can take exponential time."""
    stack = [False]  # per open group: does it hold an unbounded repetition?
    position, length = 0, len(pattern)
    while position < length:
        char = pattern[position]
        closed_group = None
        if char == "\\":
            position += 2
            if (
                position - 1 < length
                and pattern[position - 1] in "pPNxuUg"
                and (position < length and pattern[position] == "{")
            ):
                close = pattern.find("}", position)
                position = length if close < 0 else close + 1
        elif char == "[":
            position += 1
            if position < length and pattern[position] == "^":
                position += 1
            if position < length and pattern[position] == "]":
                position += 1
            depth = 1
            while position < length and depth:
                if pattern[position] == "\\":
                    position += 2
                    continue
                if pattern[position] == "[":
                    depth += 1
                elif pattern[position] == "]":
                    depth -= 1
                position += 1
        elif char == "(":
            stack.append(False)
            position += 1
            continue
        elif char == ")":
            closed_group = stack.pop() if len(stack) > 1 else False
            position += 1
        else:
            position += 1
        quantifier = _QUANTIFIER.match(pattern, position)
        if quantifier:
            unbounded = _repeats_without_bound(quantifier.group())
            if closed_group and unbounded:
                return True
            if unbounded:
                stack[-1] = True
            position = quantifier.end()
            if position < length and pattern[position] in "?+":  # lazy or possessive
                position += 1
        if closed_group:
            stack[-1] = True
    return False


def validate_pattern(pattern: str) -> None:
    """Refuse (PreventionError, with a message for the person typing it) a regular
    expression that does not compile, is too long, can match an empty text, repeats a
    repetition without bound, or takes too long on probe texts."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise PreventionError(_("Enter a regular expression."))
    if "\x00" in pattern:
        raise PreventionError(_("A regular expression cannot contain a NUL character."))
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PreventionError(
            _(
                "A regular expression can be at most %(limit)s characters long "
                "(this one has %(count)s)."
            )
            % {"limit": MAX_PATTERN_CHARS, "count": len(pattern)}
        )
    try:
        compiled = _compile(pattern)
    except regex.error as error:
        if error.pos is not None:
            message = _(
                "This is not a valid regular expression: %(error)s at position %(position)s."
            ) % {"error": error.msg, "position": error.pos + 1}
        else:
            message = _("This is not a valid regular expression: %(error)s.") % {"error": error.msg}
        raise PreventionError(message) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise PreventionError(
            _("This is not a valid regular expression: %(error)s.") % {"error": error}
        ) from None
    if compiled.search("") is not None:
        raise PreventionError(
            _(
                "This regular expression matches an empty text, so it would flag every "
                "post. Make at least one character required (e.g. use + instead of *)."
            )
        )
    if _nested_repetition(pattern):
        raise PreventionError(
            _(
                "This regular expression repeats a part that itself repeats (like (a+)+ or "
                "(\\w+\\s?)*), which can take minutes on some texts. Write it without the "
                "repetition inside the repeated group."
            )
        )
    for probe in _probes(pattern):
        try:
            for match in compiled.finditer(probe, timeout=PATTERN_TIMEOUT_SECONDS):
                if match.end() == match.start():
                    raise PreventionError(
                        _(
                            "This regular expression can match nothing at all (an empty "
                            "match, like \\b or a lookahead alone), so it would flag posts "
                            "without pointing at any words. Make it match at least one "
                            "character."
                        )
                    )
        except TimeoutError:
            raise PreventionError(
                _(
                    "This regular expression takes too long on some texts (it backtracks, "
                    "e.g. (a|aa)+ or alternatives that overlap under a repetition). Write "
                    "it so that each part of a text can be matched only one way."
                )
            ) from None


def validate_term(text: str) -> None:
    """Refuse (PreventionError) a plain term that could never match sensibly."""
    if not isinstance(text, str) or not text.strip():
        raise PreventionError(_("Enter a word or phrase."))
    if "\x00" in text:
        raise PreventionError(_("A word or phrase cannot contain a NUL character."))
    if len(text) > MAX_TERM_CHARS:
        raise PreventionError(
            _("A word or phrase can be at most %(limit)s characters long (this one has %(count)s).")
            % {"limit": MAX_TERM_CHARS, "count": len(text)}
        )
    sequences, squashed = _term_sequences(text)
    if not sequences or not squashed:
        raise PreventionError(
            _(
                "A word or phrase needs at least one letter or digit; punctuation alone is "
                "never matched. To match symbols, add a regular expression instead."
            )
        )
