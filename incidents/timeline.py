"""An incident's history and exposure window as people read them, in their language: the
incident page, the closure report and the API show them the same way."""

from __future__ import annotations

import re
from datetime import date, datetime

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from incidents.models import Incident, Takedown

Status = Incident.Status


def _duration(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return ""
    minutes = max(int((end - start).total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)s day", "%(count)s days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours})
    if not days and (minutes or not hours):
        parts.append(
            ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
        )
    return " ".join(parts[:2])


def exposure_window(incident: Incident, now: datetime) -> tuple[list[dict], dict]:
    """Posted → noticed → contained → closed, with the time each stretch took."""
    points = [
        (_("Posted"), incident.posted_at),
        (_("Noticed"), incident.noticed_at),
        (_("Contained"), incident.contained_at),
        (_("Closed"), incident.closed_at),
    ]
    window = []
    previous = None
    for label, at in points:
        window.append(
            {"label": label, "at": at, "after": _duration(previous, at) if previous else ""}
        )
        previous = at or previous
    start = incident.posted_at or incident.noticed_at
    end = incident.contained_at
    return window, {
        "exposed_for": _duration(start, end or now),
        "still_exposed": end is None,
        "open_for": _duration(incident.noticed_at, incident.closed_at or now),
    }


# The history is stored as written (codes, and a few fixed English words); it is put
# into the reader's language here, when it is shown. Anything else (a name, a link, a
# number, a person's note) is shown as it was stored.
EVENT_NAMES = {
    "status": pgettext_lazy("incident history", "Status"),
    "owner": pgettext_lazy("incident history", "Owner"),
    "severity": pgettext_lazy("incident history", "Severity"),
    "information": pgettext_lazy("incident history", "Information"),
    "estimated_reach": pgettext_lazy("incident history", "Estimated reach"),
    "platform": pgettext_lazy("incident history", "Platform"),
    "url": pgettext_lazy("incident history", "Url"),
    "account_handle": pgettext_lazy("incident history", "Account handle"),
    "posted_at": pgettext_lazy("incident history", "Posted at"),
    "noticed_at": pgettext_lazy("incident history", "Noticed at"),
    "what_happened": pgettext_lazy("incident history", "What happened"),
    "people involved": pgettext_lazy("incident history", "People involved"),
    "takedown": pgettext_lazy("incident history", "Takedown"),
    "no takedown": pgettext_lazy("incident history", "No takedown"),
    "statement": pgettext_lazy("incident history", "Statement"),
    "evidence": pgettext_lazy("incident history", "Evidence"),
    "regulator or police": pgettext_lazy("incident history", "Regulator or police"),
    "track": pgettext_lazy("incident history", "Track"),
    "action": pgettext_lazy("incident history", "Action"),
    "due date": pgettext_lazy("incident history", "Due date"),
    "review": pgettext_lazy("incident history", "Review"),
    "lesson": pgettext_lazy("incident history", "Lesson"),
}
EVENT_WORDS = {
    "added": pgettext_lazy("incident history", "added"),
    "done": pgettext_lazy("incident history", "done"),
    "waived": pgettext_lazy("incident history", "waived"),
    "written": pgettext_lazy("incident history", "written"),
    "signed off": pgettext_lazy("incident history", "signed off"),
    "approved": pgettext_lazy("incident history", "approved"),
    "published": pgettext_lazy("incident history", "published"),
    "captured": pgettext_lazy("incident history", "captured"),
    "withdrawn": pgettext_lazy("incident history", "withdrawn"),
    "no individual": pgettext_lazy("incident history", "no individual"),
    "refer to the regulator": pgettext_lazy("incident history", "refer to the regulator"),
    "refer to the police": pgettext_lazy("incident history", "refer to the police"),
    "not referred": pgettext_lazy("incident history", "not referred"),
}
EVENT_NOTES = {
    "Reported": pgettext_lazy("incident history", "Reported"),
    "Self-reported": pgettext_lazy("incident history", "Self-reported"),
}
PEOPLE_COUNT = re.compile(r"(\d+) people")


def _value_label(what: str, value: str) -> str:
    choices = {
        "status": Status,
        "track": Incident.Track,
        "severity": Incident.Severity,
        "platform": Incident.Platform,
        "information": Incident.Information,
        "takedown": Takedown.Status,
    }.get(what)
    if choices is not None and value in choices.values:
        return choices(value).label
    if what == "due date" and value:
        try:
            return formats.date_format(date.fromisoformat(value), "j M Y")
        except ValueError:
            return value
    if value in EVENT_WORDS:
        return EVENT_WORDS[value]
    count = PEOPLE_COUNT.fullmatch(value)
    if what == "people involved" and count:
        number = int(count.group(1))
        return ngettext("%(count)s people", "%(count)s people", number) % {"count": number}
    return value


def describe_event(event) -> str:
    before = _value_label(event.what, event.from_value)
    after = _value_label(event.what, event.to_value)
    what = EVENT_NAMES.get(event.what) or event.what.replace("_", " ").capitalize()
    if event.what == "status" and not before:
        return str(after)
    if before and after:
        # Translators: a history row, e.g. "Severity: Medium → High".
        return _("%(what)s: %(before)s → %(after)s") % {
            "what": what,
            "before": before,
            "after": after,
        }
    if after:
        # Translators: a history row, e.g. "Action: added".
        return _("%(what)s: %(after)s") % {"what": what, "after": after}
    return str(what)
