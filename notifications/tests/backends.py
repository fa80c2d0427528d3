"""Mail backends that misbehave on purpose, for the reliability tests."""

import os
import smtplib
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakyBackend(LocmemBackend):
    """Fails the first `failures` sends with a transient error, then delivers."""

    failures = 2
    calls = 0
    error: Exception = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise type(self).error
        return super().send_messages(messages)


class SlowFileBackend(BaseEmailBackend):
    """Writes each message to its own file in $TEST_MAIL_DIR, slowly, so that a test
    can kill the worker in the middle of a batch. The file name carries the
    outbox row ids, so duplicates are easy to count."""

    def send_messages(self, messages):
        folder = Path(os.environ["TEST_MAIL_DIR"])
        delay = float(os.environ.get("TEST_MAIL_DELAY", "0.2"))
        for message in messages:
            time.sleep(delay)
            ids = message.extra_headers.get("X-PolicyHub-Notification", "none")
            name = f"{ids.replace(',', '_')}-{time.time_ns()}-{os.getpid()}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
        return len(messages)
