"""Directory changes that other parts of PolicyHub follow."""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def directory_changed() -> None:
    """After people were created, moved or deactivated in bulk (an import), bring the
    policy assignments in line at once instead of at the next beat round."""

    def enqueue():
        from policies.tasks import reconcile_assignments

        try:
            reconcile_assignments.apply_async(retry=False)
        except Exception:  # the beat round does it anyway; the import must not fail
            log.warning("Could not reach the broker; assignments follow at the next round.")

    transaction.on_commit(enqueue)
