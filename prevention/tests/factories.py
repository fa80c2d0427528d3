"""Watch-list entries for tests.

`watch_term(**fields)` saves one WatchTerm straight to the database (not through the
watch-list service, so a test of the matcher or of intake does not depend on the audit):
a plain term, active, not expiring, kept by a comms person made on first use. Any field
may be given, e.g. `watch_term(text="Project Atlas", severity="high")`,
`watch_term(kind="pattern", text=r"\\bQ[1-4] revenue\\b")`,
`watch_term(expires_on=date(2020, 1, 1))`. An entry of the same kind and text that is
already there (the demo's "Project Atlas" in a browser test) is taken over with the
fields given, as the unique constraint allows one.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.utils import timezone

from incidents.models import Incident
from people import roles
from people.models import User
from prevention.models import WatchTerm


def keeper() -> User:
    """The comms person who keeps the watch list in tests (made once)."""
    user, created = User.objects.get_or_create(
        email="watch.keeper@example.com", defaults={"full_name": "Wendy Keeper"}
    )
    if created:
        user.groups.add(Group.objects.get_or_create(name=roles.COMMS)[0])
    return user


def watch_term(**fields) -> WatchTerm:
    now = timezone.now()
    fields.setdefault("kind", WatchTerm.Kind.TERM)
    fields.setdefault("text", "Project Atlas")
    if fields["kind"] == WatchTerm.Kind.PATTERN:
        fields.setdefault("name", "Figures not yet published")  # a pattern needs a name
    fields.setdefault("category", Incident.Information.PRODUCT)
    fields.setdefault("severity", Incident.Severity.HIGH)
    fields.setdefault(
        "explanation",
        f"“{fields['text']}” is an internal name that has not been announced.",
    )
    fields.setdefault("created_at", now)
    fields.setdefault("updated_at", now)
    if "created_by" not in fields and "created_by_id" not in fields:
        fields["created_by"] = keeper()
    kind, text = fields.pop("kind"), fields.pop("text")
    term, _created = WatchTerm.objects.update_or_create(kind=kind, text=text, defaults=fields)
    return term
