"""How much the matcher takes on: the sizes and times it holds to.

Only the first MAX_TEXT_CHARS characters of a text are checked (cut back to the end of
the last whole word), so a 100,000-character webhook payload costs what a 20,000 one
does; findings' offsets still point into the text as given. NUL and other control
characters are not part of any word: they separate words, as a space does.
"""

from __future__ import annotations

import regex

MAX_TEXT_CHARS = 20_000  # longest text matched at once (drafts are limited to 10,000 by the form)
PATTERN_TIMEOUT_SECONDS = 0.05  # per pattern per text (regex module's timeout)
MAX_PATTERN_CHARS = 300
MAX_TERM_CHARS = 300
MAX_PATTERNS = 100  # live patterns the watch list should hold at most: each runs on every text
MAX_GAP = 10  # characters allowed between the words of a term
MAX_TAG_SPLIT = 100  # longer tags are one part (splitting is quadratic in the worst case)
MAX_TAG_RUN = 8  # parts of a tag joined together when comparing with a term's squashed form

_WORD_CHAR = regex.compile(r"[\p{L}\p{N}\p{M}_]")


def text_end(text: str) -> int:
    """Where checking stops: MAX_TEXT_CHARS, moved back to a word's end."""
    if len(text) <= MAX_TEXT_CHARS:
        return len(text)
    cut = MAX_TEXT_CHARS
    floor = cut - MAX_TERM_CHARS
    while cut > floor and _WORD_CHAR.match(text, cut) and _WORD_CHAR.match(text, cut - 1):
        cut -= 1
    return cut if cut > floor else MAX_TEXT_CHARS
