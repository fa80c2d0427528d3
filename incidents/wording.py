"""Labels inside sentences, in the reader's language."""

from __future__ import annotations

from django.utils.translation import get_language


def in_sentence(label) -> str:
    """A choice label ("In triage", "Learning track") as it reads inside a sentence:
    lower case in English and French, as it is in German (whose nouns keep their capital;
    the German sentences quote it)."""
    text = str(label)
    if (get_language() or "").startswith("de"):
        return text
    return text.lower()
