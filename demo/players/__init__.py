"""One player per app: each reads its story from demo/<app>.json and tells it through that
app's services, passing every step its time (`now=`)."""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.conf import settings

STORIES = Path(settings.BASE_DIR) / "demo"


def load_story(name: str) -> dict:
    """The story in demo/<name>.json."""
    with open(STORIES / f"{name}.json", encoding="utf-8") as handle:
        return json.load(handle)


def share(email: str, salt: str) -> float:
    """A stable number in [0, 1) per person and purpose: the same people every run."""
    digest = hashlib.sha256(f"{salt}:{email}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000


Step = Callable[[datetime], None]


class Timeline:
    """Steps of a story, played in time order whatever order they were added in (the
    order added breaks ties); each step is given its moment. A step that would happen
    after `now` is refused."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._steps: list[tuple[datetime, int, Step]] = []

    def add(self, at: datetime, step: Step) -> None:
        if at >= self.now:
            raise ValueError(f"A demo step would happen in the future ({at:%Y-%m-%d %H:%M}).")
        self._steps.append((at, len(self._steps), step))

    def run(self) -> None:
        for at, _order, step in sorted(self._steps, key=lambda item: item[:2]):
            step(at)
