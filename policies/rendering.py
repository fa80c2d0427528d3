"""Policy bodies: Markdown rendered and sanitised, and split into sections for diffs.

Each heading gets an id made from its text (`heading_id`), so that a link can point at a
section of a policy: `/policies/<slug>/#section-confidential-information`."""

from __future__ import annotations

import difflib
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

import markdown
import nh3
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify as toc_slugify

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"scope"},
    **{tag: {"id"} for tag in _HEADING_TAGS},
}
HEADING_ID_PREFIX = "section"


def _slug(text: str, separator: str = "-") -> str:
    """`section-<words of the heading>`: lower case, letters, digits, `_` and `-` only,
    so an id can never carry markup, a quote or another page element's name."""
    words = toc_slugify(text, separator, unicode=True)
    return f"{HEADING_ID_PREFIX}-{words}" if words else HEADING_ID_PREFIX


def _markdown(*, id_marker: str) -> markdown.Markdown:
    # The table-of-contents extension gives every Markdown heading an id from its text
    # (a repeated one gets _1, _2...); `marker=""` leaves "[TOC]" in a body as text.
    return markdown.Markdown(
        extensions=[
            "tables",
            "sane_lists",
            TocExtension(marker="", slugify=lambda text, sep: id_marker + _slug(text, sep)),
        ],
        output_format="html",
    )


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to show: no script, no event handlers, links only
    to http(s) and mailto addresses, and headings with ids made from their text.

    Only ids PolicyHub made are kept: they carry a marker that is new for every render,
    so an id written into the body as raw HTML (`<h2 id="main">`, or one copying a
    section's id) is removed by the sanitiser like any other attribute it does not know."""
    id_marker = f"x{secrets.token_hex(8)}-"

    def only_our_ids(tag: str, attribute: str, value: str) -> str | None:
        if attribute != "id":
            return value
        return value.removeprefix(id_marker) if value.startswith(id_marker) else None

    html = _markdown(id_marker=id_marker).convert(text)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=only_our_ids,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


@lru_cache(maxsize=2048)
def heading_id(heading: str) -> str:
    """The id `render_markdown` gives a heading with this text (as `split_sections` reads
    it, Markdown and all): the first heading of that name in a body carries it."""
    md = _markdown(id_marker="")
    md.convert(f"## {heading.strip()}")
    tokens = getattr(md, "toc_tokens", [])
    return tokens[0]["id"] if tokens else _slug(heading)


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Section:
    heading: str  # "" for text before the first heading
    text: str


def split_sections(text: str) -> list[Section]:
    """Split a Markdown body at its headings; each section keeps its own text."""
    sections: list[Section] = []
    heading, lines = "", []
    in_code = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            if heading or any(part.strip() for part in lines):
                sections.append(Section(heading, "\n".join(lines).strip("\n")))
            heading, lines = match.group(2).strip(), []
        else:
            lines.append(line)
    if heading or any(part.strip() for part in lines):
        sections.append(Section(heading, "\n".join(lines).strip("\n")))
    return sections


@dataclass(frozen=True)
class SectionChange:
    heading: str
    status: str  # "added", "removed", "changed", "unchanged"
    old_text: str
    new_text: str

    @property
    def diff_lines(self) -> list[tuple[str, str]]:
        """(kind, line) pairs, kind in "+", "-", " ", for showing a changed section."""
        result = []
        for line in difflib.ndiff(self.old_text.split("\n"), self.new_text.split("\n")):
            kind, content = line[:1], line[2:]
            if kind in "+- ":
                result.append((kind, content))
        return result


def section_changes(old: str, new: str) -> list[SectionChange]:
    """Section by section: what a reader who knows `old` needs to read again in `new`.

    Sections are matched by heading (case and spacing aside); the order is the new
    version's, and sections that were removed come last.
    """

    def key(heading: str) -> str:
        return " ".join(heading.casefold().split())

    old_sections = {key(s.heading): s for s in split_sections(old)}
    new_sections = split_sections(new)
    new_keys = {key(s.heading) for s in new_sections}
    changes = []
    for section in new_sections:
        before = old_sections.get(key(section.heading))
        if before is None:
            changes.append(SectionChange(section.heading, "added", "", section.text))
        elif before.text.strip() == section.text.strip():
            changes.append(SectionChange(section.heading, "unchanged", before.text, section.text))
        else:
            changes.append(SectionChange(section.heading, "changed", before.text, section.text))
    for name, section in old_sections.items():
        if name not in new_keys:
            changes.append(SectionChange(section.heading, "removed", section.text, ""))
    return changes
