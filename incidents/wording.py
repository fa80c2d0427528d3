"""Labels inside sentences, in the reader's language."""

from __future__ import annotations

from django.utils.translation import get_language, gettext_noop

# The name shown instead of a restricted person's (in English here: the API and the
# closure report use it too; the pages translate it).
RESTRICTED_NAME = gettext_noop("A person involved (restricted)")


def in_sentence(label) -> str:
    """A choice label ("In triage", "Learning track") as it reads inside a sentence:
    lower case in English and French, as it is in German (whose nouns keep their capital;
    the German sentences quote it)."""
    text = str(label)
    if (get_language() or "").startswith("de"):
        return text
    return text.lower()
