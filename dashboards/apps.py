import logging

from django.apps import AppConfig
from django.db import transaction

log = logging.getLogger(__name__)


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self):
        # The finished months the compliance dashboard keeps are forgotten whenever a
        # change alters what they would count (dashboards/summaries.py), and counted
        # again by a worker once the change has committed.
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        from people.signals import directory_changed
        from policyhub.history import past_changed

        directory_changed.connect(_directory_changed, dispatch_uid="dashboards")
        past_changed.connect(_past_changed, dispatch_uid="dashboards")
        m2m_changed.connect(
            _groups_changed, sender=get_user_model().groups.through, dispatch_uid="dashboards"
        )


def _directory_changed(sender, **kwargs):
    _forget()


def _past_changed(sender, *, kind, since=None, **kwargs):
    _forget(kind=kind, since=since)


def _groups_changed(sender, action, **kwargs):
    from policyhub.history import TRAINING

    if action in ("post_add", "post_remove", "post_clear"):
        _forget(kind=TRAINING)


def _forget(**kwargs) -> None:
    """Forget the kept months a change alters; if any were kept, a worker counts them
    again once the change commits, so that the next view does not. One ask for a burst:
    none when nothing was removed (a second forget of the same months, or nothing kept
    yet), and one per transaction however many forgets it makes (each group a person
    joins or leaves forgets). Should two asks still go out (two forgets of different
    months after one commit), the second run finds nothing missing: one read."""
    from dashboards import summaries

    if not summaries.forget(**kwargs):
        return  # nothing was kept (or it is already forgotten): nothing to count again
    connection = transaction.get_connection()
    # The callbacks this transaction will run on commit (what Django's own
    # captureOnCommitCallbacks reads); outside a transaction, none: it runs at once.
    if any(callback is _fill_soon for _, callback, _ in connection.run_on_commit):
        return
    transaction.on_commit(_fill_soon)


def _fill_soon() -> None:
    """Ask a worker to count the forgotten months. If the broker cannot be reached, the
    next view counts them (or beat's run after midnight): the change must not fail."""
    from dashboards.tasks import fill_finished_months  # not at the top: models load first

    try:
        fill_finished_months.apply_async(retry=False)
    except Exception:
        log.warning("Could not reach the broker; the next view counts the forgotten months.")
