"""The finished months of the compliance dashboard's 12-month trend, computed once and
kept in `MonthFigure` (issue 14): a month that is over is not recounted on every view.

What is kept, for everyone, per month, per department (the person's department when
the month was computed):
- per policy: acknowledged and assigned at the month's end (`acknowledgement_counts`);
- per training requirement: people compliant at the month's end (`coverage_counts`).
A department filter adds up its departments' rows; a policy filter takes one policy's.
This month (to date) is always counted live. So is a line manager's team; the team of
the head of the whole line (everyone else who is active) is everyone's kept figures less
the few people outside it: for acknowledgements, the people who have left, whose figures
are kept too (`LEAVERS`, forgotten with everyone's), and the head, counted live; for
training, all of them counted live (`compliance.Scope.rest`).

A figure is never stale: whatever changes what a finished month's live count would be
forgets the kept months (`forget`, from the hooks in dashboards/apps.py), and a worker
counts them again as soon as the change has committed (`refill.fill`, the task
`dashboards.tasks.fill_finished_months`, asked for once per transaction and only when
rows were forgotten); a view that comes first counts them itself, all missing months
in one pass:
- the directory (people joining, leaving, moving; departments added, moved or deleted;
  `people.signals.directory_changed`, from the services, the import, SCIM and the
  admin's person and department pages) and group memberships: training counts today's
  audience at every month end, and a department's rows follow its people;
- attendance marked, or a session cancelled or moved, for a session that began before
  this month (`policyhub.history.past_changed`, sent by the training services);
- assignments reopened (a returning joiner, a yearly re-acknowledgement), which rewrite
  when they were assigned; a training requirement's topics, period or audience changed.
Acknowledging, publishing a version, a leaver's assignments closing and attendance this
month change only this month's figures: the kept months stay (tests hold them equal to
the live count after each kind of change). A change that commits while months are
being counted finds nothing yet to forget, so each forgetting also moves on a generation
(`MonthFigureGeneration`): a count keeps its months only if the generation it read
before counting is still current, holding the generation's row while it writes, so a
forget waits for it and then deletes what it kept. A write that goes round all of these (SQL by
hand, a queryset's `update` in the shell) is not seen: `summaries.forget()` then, and
`refill.fill()` (or the next view counts them).

Costs: one grouped read for both kinds and all eleven finished months (a row per month
and policy or requirement); computing missing months is one query per kind, and keeping
them one insert (the marks and the rows together; what was counted is shown, not read
back). Missing months are the exception a view should not meet: besides the worker
after each change, beat runs `refill.fill` shortly after midnight every day, so the month that
has just ended is kept before anyone looks (policyhub/celery.py). Its run with nothing
missing is the read alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from dashboards.compliance import Filters, Month
from dashboards.models import MonthFigure, MonthFigureGeneration

ACK = MonthFigure.Kind.ACKNOWLEDGEMENT
TRAINING = MonthFigure.Kind.TRAINING
LEAVERS = MonthFigure.Kind.LEAVERS  # acknowledgements of the people who have left
# A change to acknowledgements forgets the leavers' too (any other kind: itself).
_FORGOTTEN_WITH = {ACK: [ACK, LEAVERS]}

# (month index, subject id, department id) -> figures, as the compute functions give them:
# [acknowledged, assigned] (acknowledgement_counts), or people compliant (coverage_counts).
Counts = dict[tuple[int, int, int | None], list[int] | int]


def _pair(figures: list[int] | int) -> tuple[int, int]:
    """(count, total) of a figure as `Counts` holds it."""
    return (figures[0], figures[1]) if isinstance(figures, list) else (figures, 0)


def _department_q(filters: Filters) -> Q:
    if filters.no_department:
        return Q(department_id__isnull=True)
    if filters.department_ids is not None:
        return Q(department_id__in=filters.department_ids)
    return Q()


class FinishedMonths:
    """The kept figures of the finished months among `months`, for one view: read once
    (both kinds, one query), the missing ones computed and kept on first use."""

    def __init__(self, months: list[Month], filters: Filters):
        self.months = [month for month in months if not month.to_date]
        self.filters = filters
        self._read: dict[tuple[str, date], dict[int, tuple[int, int]]] | None = None

    def _figures(self) -> dict[tuple[str, date], dict[int, tuple[int, int]]]:
        """(kind, month) -> {subject id: (count, total)}; a computed month is present
        even when it has no figure."""
        if self._read is None:
            rows = MonthFigure.objects.filter(month__in=[month.first for month in self.months])
            departments = _department_q(self.filters)
            if departments:  # (an empty Q would make the OR only the marks)
                rows = rows.filter(Q(subject_id=MonthFigure.MARK) | departments)
            rows = (
                rows.values("kind", "month", "subject_id")
                .annotate(count=Sum("count"), total=Sum("total"))
                .order_by()
            )
            self._read = {}
            for row in rows:
                figures = self._read.setdefault((row["kind"], row["month"]), {})
                if row["subject_id"] != MonthFigure.MARK:
                    figures[row["subject_id"]] = (row["count"], row["total"])
        return self._read

    def missing(self, kind: str) -> list[Month]:
        """The finished months of `kind` that are not kept yet."""
        return [month for month in self.months if (kind, month.first) not in self._figures()]

    def _ensure(self, kind: str, compute: Callable[[list[Month]], Counts]) -> None:
        missing = self.missing(kind)
        if not missing:
            return
        generation = current_generation()  # before the count reads anything
        counts = compute(missing)
        if not keep(kind, missing, counts, generation=generation):
            # Refused: another view kept them first (what it kept is shown), or a change
            # forgot them meanwhile (what was counted is shown, and not kept).
            self._read = None
        figures = self._figures()
        for k, month in enumerate(missing):
            if (kind, month.first) in figures:
                continue
            # What was kept, added up as the read would give it (no read back); or, if
            # nobody kept it (another view's write failed after ours was refused), what
            # this view counted all the same.
            added: dict[int, list[int]] = {}
            for (index, subject_id, department_id), found in counts.items():
                if index == k and self._shows(department_id):
                    count, total = _pair(found)
                    pair = added.setdefault(subject_id, [0, 0])
                    pair[0] += count
                    pair[1] += total
            figures[(kind, month.first)] = {pk: (pair[0], pair[1]) for pk, pair in added.items()}

    def _shows(self, department_id: int | None) -> bool:
        """Whether the filters count a department's row (as `_department_q` does)."""
        if self.filters.no_department:
            return department_id is None
        if self.filters.department_ids is not None:
            return department_id in self.filters.department_ids
        return True

    def acknowledgements(
        self,
        compute: Callable[[list[Month]], Counts],
        policy_id: int | None,
        *,
        kind: str = ACK,
    ) -> list[tuple[int, int]]:
        """(acknowledged, assigned) per finished month, of one policy or all; `kind`
        LEAVERS: of the people who have left only."""
        self._ensure(kind, compute)
        found = []
        for month in self.months:
            figures = self._figures().get((kind, month.first), {})
            pairs = [pair for pk, pair in figures.items() if policy_id in (None, pk)]
            found.append((sum(a for a, _ in pairs), sum(t for _, t in pairs)))
        return found

    def training(
        self, compute: Callable[[list[Month]], Counts], requirement_ids: list[int]
    ) -> list[int]:
        """People × requirement pairs compliant at each finished month's end."""
        self._ensure(TRAINING, compute)
        return [
            sum(
                count
                for pk, (count, _) in self._figures().get((TRAINING, month.first), {}).items()
                if pk in requirement_ids
            )
            for month in self.months
        ]


GENERATION = 1  # the primary key of MonthFigureGeneration's one row


def current_generation() -> int:
    """How many times kept months were forgotten; read before counting them (`keep`)."""
    row, _ = MonthFigureGeneration.objects.get_or_create(pk=GENERATION)
    return row.value


def keep(
    kind: str,
    months: list[Month],
    counts: Counts,
    *,
    generation: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Keep the figures of `months` (indexes into it in `counts`), each month marked as
    computed, in one transaction. Keep nothing (False) if a view kept any of them
    meanwhile (what it kept is read instead), or if kept months were forgotten since
    `generation` was read (`current_generation`, before counting): a change committed
    while they were counted, and they may be counted from before it.

    The generation's row is locked for the transaction (SELECT … FOR UPDATE NOWAIT), so a
    `forget` waits for it and then deletes what it kept; a `forget` that came first has
    moved the generation on, or holds it until its change commits."""
    now = now or timezone.now()
    marks = [
        MonthFigure(kind=kind, month=month.first, subject_id=MonthFigure.MARK, computed_at=now)
        for month in months
    ]
    rows = [
        MonthFigure(
            kind=kind,
            month=months[k].first,
            subject_id=subject_id,
            department_id=department_id,
            count=_pair(figures)[0],
            total=_pair(figures)[1],
            computed_at=now,
        )
        for (k, subject_id, department_id), figures in counts.items()
    ]
    try:
        # A savepoint of its own: a refused mark must not break the caller's transaction.
        # The marks first, so that a refusal comes before the rows are written.
        with transaction.atomic():
            if generation is not None:
                held = MonthFigureGeneration.objects.select_for_update(nowait=True).filter(
                    pk=GENERATION, value=generation
                )
                if not list(held.values_list("pk", flat=True)):
                    return False
            MonthFigure.objects.bulk_create(marks + rows, batch_size=1000)
    except (IntegrityError, OperationalError):
        # Kept by another view first; or a forget holds the generation (a change not
        # yet committed, an import's long transaction): it moves it on, so what was
        # counted would be refused anyway, and a view is not kept waiting for it.
        return False
    return True


def forget(*, kind: str | None = None, since: datetime | None = None) -> int:
    """Forget kept months (of one kind, or all), from the month of `since` on (None:
    all); the next view computes them again. Returns the rows removed.

    The generation moves on first: a count in progress then keeps nothing, and one
    keeping now is waited for, so what it kept is deleted here."""
    moved = MonthFigureGeneration.objects.filter(pk=GENERATION).update(value=F("value") + 1)
    if not moved:
        MonthFigureGeneration.objects.get_or_create(pk=GENERATION, defaults={"value": 1})
    kept = MonthFigure.objects.all()
    if kind is not None:
        kept = kept.filter(kind__in=_FORGOTTEN_WITH.get(kind, [kind]))
    if since is not None:
        site = timezone.get_default_timezone()
        kept = kept.filter(month__gte=timezone.localtime(since, site).date().replace(day=1))
    return kept.delete()[0]
