"""Words: how a text and a watch-list term are cut into words and compared.

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
"""

from __future__ import annotations

import unicodedata

import regex

from prevention.matching.limits import MAX_TAG_SPLIT

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
MARKS = regex.compile(r"\p{M}+")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})


# Nothing of a text checked is kept once its check is done: the words of a draft are
# worked out once per check in dictionaries of that check (a process-wide cache would
# keep recent drafts' words in memory, while "Check a post" promises to keep nothing).
# Only the watch list is cached (current_watch_list).


def _fold_slow(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold())
    return MARKS.sub("", folded).translate(_APOSTROPHES)


def fold(word: str) -> str:
    """A word case-folded, accents off, apostrophes straight: how words are compared."""
    if word.isascii():
        return word.lower()
    return _fold_slow(word)


def word_forms(word: str) -> tuple[str, ...]:
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


class Words:
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


def term_sequences(text: str) -> tuple[set[tuple[str, ...]], str]:
    """The word sequences a term matches and its squashed form (no spaces, no
    apostrophes); no sequences when it has no letters or digits."""
    as_written, split = _term_words(text)
    sequences = {tuple(words) for words in (as_written, split) if words}
    return sequences, "".join(as_written).replace("'", "")


def normalise_term(text: str) -> str:
    """A term's folded words, one space between them: two entries with the same normal
    form match the same texts ("Project  ÁTLAS", "project atlas", "#ProjectAtlas")."""
    return " ".join(_term_words(text)[1])
