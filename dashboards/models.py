"""Figures of finished months, kept so that the compliance dashboard's 12-month trend
does not recount a year of history on every view (issue 14). `dashboards.summaries`
computes and reads them; nothing else writes here."""

from django.db import models


class MonthFigure(models.Model):
    """One figure of a month that is over, for everyone: per policy (acknowledged of
    assigned, at the month's end) or per training requirement (people compliant at the
    month's end), and per department (the people's department when it was computed).
    The acknowledgements of the people who have left (inactive when it was computed)
    are kept once more on their own (`LEAVERS`): the head of the whole line's team is
    everyone's less theirs, less the head's own.

    A row with `subject_id` 0 marks the month as computed for its kind, so that a month
    with no figures at all is not computed again."""

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
        TRAINING = "training", "Training"
        LEAVERS = "leavers", "Acknowledgement, of people who have left"

    MARK = 0  # the subject_id of the "computed" row

    kind = models.CharField(max_length=20, choices=Kind.choices)
    month = models.DateField()  # its first day, in the site's time zone
    subject_id = models.PositiveIntegerField()  # a policy or a training requirement
    department_id = models.PositiveIntegerField(null=True)
    count = models.PositiveIntegerField(default=0)  # acknowledged, or compliant
    total = models.PositiveIntegerField(default=0)  # assigned (acknowledgements only)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["month", "kind"], name="dashboards_month_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "month"],
                condition=models.Q(subject_id=0),
                name="dashboards_month_computed_once",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.month:%Y-%m} #{self.subject_id}"


class MonthFigureGeneration(models.Model):
    """How many times kept months were forgotten (one row): a count started before the
    figures are read is kept only if no forgetting came in between, so a change that
    commits while months are being counted (and finds nothing yet to forget) does not
    leave figures counted from before it (`dashboards.summaries`)."""

    value = models.BigIntegerField(default=0)

    def __str__(self):
        return f"forgotten {self.value} times"
