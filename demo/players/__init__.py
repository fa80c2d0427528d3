"""One player per app: each reads its story from demo/<app>.json and tells it through that
app's services, passing every step its time (`now=`)."""

import json
from pathlib import Path

from django.conf import settings

STORIES = Path(settings.BASE_DIR) / "demo"


def load_story(name: str) -> dict:
    """The story in demo/<name>.json."""
    with open(STORIES / f"{name}.json", encoding="utf-8") as handle:
        return json.load(handle)
