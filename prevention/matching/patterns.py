"""Watch-list patterns: regular expressions, run accent- and case-insensitively.

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
"""

from __future__ import annotations

import unicodedata

import regex

from prevention.matching.words import MARKS


class Unaccented:
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
    return MARKS.sub("", unicodedata.normalize("NFKD", char))


def _unaccent_pattern(pattern: str) -> str:
    if pattern.isascii():
        return pattern
    return "".join(c if c.isascii() else _unaccent_char(c) for c in pattern)


PATTERN_FLAGS = regex.IGNORECASE | regex.FULLCASE | regex.V0


def compile_pattern(pattern: str):
    return regex.compile(_unaccent_pattern(pattern), PATTERN_FLAGS)


# What a pattern must not hold to be one alternative among others: a backreference or
# subroutine call (group numbers shift), a conditional, a branch reset, recursion, or a
# global inline flag such as (?x) that would apply to all the others.
_NOT_SCREENABLE = regex.compile(
    r"\\[1-9]|\\g|\(\?P?[=>&]|\(\?[+-]?\d|\(\?R\)|\(\?\||\(\?\(|\(\?\w+\)"
)


def screenable(pattern: str) -> bool:
    return _NOT_SCREENABLE.search(pattern) is None
