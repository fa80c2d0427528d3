"""My team as a CSV: the list's people with what each still has to do, streamed a chunk
of people at a time (`dashboards.team.grouped`: grouped queries per chunk, the same rules
as the page's figures)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from django.db.models import QuerySet

from dashboards.team import Moment, grouped

CSV_CHUNK = 500

HEADER = [
    "Name",
    "Email",
    "Department",
    "Job title",
    "Direct manager",
    "Policies outstanding",
    "Policies overdue",
    "Earliest policy due",
    "Briefings not attended",
    "Briefings booked",
    "Briefings overdue",
    "Actions open",
    "Actions overdue",
    "Earliest action due",
]


def csv_rows(people: QuerySet, manager, *, moment: Moment | None = None) -> Iterator[list]:
    """The CSV lines of the list, streamed a chunk of people at a time (their figures at
    `moment`, by default when streaming starts, by `grouped` queries for each chunk)."""
    moment = moment or Moment.of()
    rows = people.select_related("department", "manager").iterator(chunk_size=CSV_CHUNK)
    while chunk := list(islice(rows, CSV_CHUNK)):
        figures = grouped([person.pk for person in chunk], moment)
        for person in chunk:
            mine = figures[person.pk]
            indirect = person.manager_id != manager.pk and person.manager is not None
            yield [
                person.get_full_name(),
                person.email,
                person.department.name if person.department else "",
                person.job_title,
                person.manager.get_full_name() if indirect else "",
                mine.policies_open,
                mine.policies_overdue,
                mine.policies_earliest_due,
                mine.training_unmet,
                mine.training_booked,
                mine.training_overdue,
                mine.actions_open,
                mine.actions_overdue,
                mine.actions_earliest_due,
            ]
