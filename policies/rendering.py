"""Policy bodies: Markdown rendered and sanitised, and split into sections for diffs."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import markdown
import nh3

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
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to show: no script, no event handlers, and links
    only to http(s) and mailto addresses."""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


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
