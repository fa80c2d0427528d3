"""Links from the watch list to the policy a term comes from."""

from __future__ import annotations

from urllib.parse import quote

from django.urls import reverse

from policies.rendering import heading_id


def section_url(policy, heading: str) -> str:
    """The policy page (its current version) at the section with this heading, e.g.
    `/policies/social-media/#section-confidential-information`; the page's top when
    no heading is given."""
    url = reverse("policies:detail", args=[policy.slug])
    heading = (heading or "").strip()
    if not heading:
        return url
    # Ids keep letters of any script ("section-größe"): written as %-escapes in the link.
    return f"{url}#{quote(heading_id(heading), safe='-_')}"
