"""What the documents share: how a person is named on paper, and the line that says
which time zone a document's times are in. Dates, times and the page itself are
evidence.pdf's; language names are policies.models.language_name."""

from __future__ import annotations

from django.utils.translation import gettext as _

from evidence.pdf import Stamp, tz_name


def name_of(person) -> str:
    """A person's full name, or a dash where there is nobody (an empty field)."""
    return person.get_full_name() if person else "—"


def times_shown(stamp: Stamp) -> str:
    """The facts row that says which time zone the document's times are in."""
    return _("Shown in %(time_zone)s") % {"time_zone": tz_name(stamp.tz)}
