from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self):
        # The finished months the compliance dashboard keeps are forgotten whenever a
        # change alters what they would count (dashboards/summaries.py).
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
    from dashboards import summaries

    summaries.forget()


def _past_changed(sender, *, kind, since=None, **kwargs):
    from dashboards import summaries

    summaries.forget(kind=kind, since=since)


def _groups_changed(sender, action, **kwargs):
    from dashboards import summaries
    from policyhub.history import TRAINING

    if action in ("post_add", "post_remove", "post_clear"):
        summaries.forget(kind=TRAINING)
