"""The watch list compiled for matching (WatchList), and the current one, cached."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date

import regex
from django.db.models import Count, Max, Q
from django.utils import timezone

from prevention.matching.findings import (
    UNNAMED_PATTERN,
    WATCH_TERM,
    Finding,
    finding_order,
    without_overlaps,
)
from prevention.matching.limits import MAX_GAP, MAX_TAG_RUN, PATTERN_TIMEOUT_SECONDS, text_end
from prevention.matching.patterns import PATTERN_FLAGS, Unaccented, compile_pattern, screenable
from prevention.matching.words import Words, term_sequences, word_forms
from prevention.models import WatchTerm

# Named as the matcher was when it was one module, so that logging settings keep working.
logger = logging.getLogger("prevention.matching")


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
        screened = [(i, c) for i, c in patterns if screenable(entries[i].text)]
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
                    compiled = compile_pattern(entry.text)
                except (regex.error, ValueError, TypeError, OverflowError):
                    logger.warning("Watch-list pattern %s does not compile; skipped", entry.id)
                    continue
                entries.append(entry)
                patterns.append((index, compiled))
                continue
            sequences, squashed = term_sequences(entry.text)
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
        end = text_end(text)
        hits: dict[int, list[tuple[int, int]]] = {}
        if self._single or self._multi:
            self._match_words(Words(text, end), hits)
        if self._patterns:
            self._match_patterns(text, end, hits)
        findings = []
        for index, spans in hits.items():
            entry = self._entries[index]
            for start, stop in without_overlaps(spans):
                findings.append(entry.finding(text, start, stop))
        findings.sort(key=finding_order)
        return findings

    def _match_words(self, words: Words, hits: dict) -> None:
        single, multi = self._single, self._multi
        norms, starts, ends, tags = words.norms, words.starts, words.ends, words.tags
        count = len(norms)
        forms_of: dict[str, tuple[str, ...]] = {}  # this text's words' forms, made once

        def forms(word: str) -> tuple[str, ...]:
            value = forms_of.get(word)
            if value is None:
                value = forms_of[word] = word_forms(word)
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
        plain = Unaccented(text, end)
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


_ENTRY_FIELDS = tuple(field.name for field in fields(_Entry))
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
            .only(*_ENTRY_FIELDS)  # what the matcher keeps of an entry, no more
            .order_by("id")
        )
        watch_list = WatchList.from_terms(live)
        _cached = (key, watch_list)
        return watch_list


def forget_current_watch_list() -> None:
    """Drop the cached watch list (the next call loads it again)."""
    global _cached
    _cached = None
