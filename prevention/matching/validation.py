"""What the watch-list pages refuse: a regular expression or a word or phrase that could
not be matched sensibly, or safely."""

from __future__ import annotations

import regex
from django.utils.translation import gettext as _

from prevention.matching.limits import (
    MAX_PATTERN_CHARS,
    MAX_TERM_CHARS,
    MAX_TEXT_CHARS,
    PATTERN_TIMEOUT_SECONDS,
)
from prevention.matching.patterns import compile_pattern
from prevention.matching.words import term_sequences
from prevention.models import PreventionError

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
        compiled = compile_pattern(pattern)
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
    sequences, squashed = term_sequences(text)
    if not sequences or not squashed:
        raise PreventionError(
            _(
                "A word or phrase needs at least one letter or digit; punctuation alone is "
                "never matched. To match symbols, add a regular expression instead."
            )
        )
