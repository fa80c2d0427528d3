"""Imported by Celery workers that tests start: registers the example kinds there."""

from notifications.tests.kinds import register_examples

register_examples()
