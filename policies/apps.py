import logging

from django.apps import AppConfig

log = logging.getLogger(__name__)


class PoliciesConfig(AppConfig):
    name = "policies"

    def ready(self):
        from people.signals import directory_changed

        directory_changed.connect(_assign_after_directory_change, dispatch_uid="policies")


def _assign_after_directory_change(sender, **kwargs):
    """People joined, moved or left: a worker brings the assignments in line at once (the
    beat round does it anyway if the broker cannot be reached; the change must not fail)."""
    from policies.tasks import reconcile_assignments  # not at the top: models load first

    try:
        reconcile_assignments.apply_async(retry=False)
    except Exception:
        log.warning("Could not reach the broker; assignments follow at the next round.")
