import pytest

from notifications.registry import unregister
from notifications.tests.kinds import EXAMPLE_KINDS, register_examples


@pytest.fixture
def example_kinds():
    register_examples()
    yield
    for kind in EXAMPLE_KINDS:
        unregister(kind.name)


@pytest.fixture
def receiver(settings):
    """A local HTTP server that records what it receives (see receiver.py); http on
    127.0.0.1 is allowed for chat and webhook addresses while it runs."""
    from notifications.tests.receiver import Receiver

    settings.NOTIFICATIONS_ALLOW_LOCAL_HTTP = True
    server = Receiver().start()
    yield server
    server.stop()
