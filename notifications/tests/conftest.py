import pytest

from notifications.registry import unregister
from notifications.tests.kinds import EXAMPLE_KINDS, register_examples


@pytest.fixture
def example_kinds():
    register_examples()
    yield
    for kind in EXAMPLE_KINDS:
        unregister(kind.name)
