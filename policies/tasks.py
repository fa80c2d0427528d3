from celery import shared_task

from policies import services


@shared_task(name="policies.tasks.publish_due_versions")
def publish_due_versions() -> int:
    return services.publish_due_versions()


@shared_task(name="policies.tasks.reconcile_assignments")
def reconcile_assignments() -> dict:
    return services.reconcile_assignments()
