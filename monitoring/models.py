from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic source (beat) got a task through a worker to the database."""

    source = models.CharField(max_length=50, unique=True)
    last_seen = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.source} at {self.last_seen:%Y-%m-%d %H:%M:%S}"
