"""Who may see and do what with policies: the one place views ask."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from people import roles
from policies.audience import audience_ids, published_for
from policies.models import Acknowledgement, Policy, PolicyTranslation, PolicyVersion


def can_manage(user) -> bool:
    """Author, review, approve, publish, see compliance: policy admins."""
    return roles.is_policy_admin(user)


# The policy admin pages' decorator: 403 for anyone else.
admin_only = roles.role_required(can_manage)


def readable_policies(user):
    """Policies with a published version that `user` may read: their audience's, or
    all of them for policy admins."""
    published = Policy.objects.filter(versions__status=PolicyVersion.Status.PUBLISHED)
    if can_manage(user):
        return published
    visible = [
        policy.pk
        for policy in published.prefetch_related("audience_departments", "audience_groups")
        if user.pk in audience_ids(policy)
    ]
    return Policy.objects.filter(pk__in=visible)


def get_policy_for(user, slug: str) -> Policy:
    """The published policy a reader may open, or 404 (drafts and others' are not shown)."""
    policy = Policy.objects.filter(slug=slug).first()
    if policy is None or not policy.versions.filter(status=PolicyVersion.Status.PUBLISHED).exists():
        raise Http404("No such policy.")
    if not (can_manage(user) or published_for(user).filter(pk=policy.pk).exists()):
        raise Http404("No such policy.")
    return policy


def get_acknowledgement_for(user, pk: int) -> Acknowledgement:
    """A receipt: one's own, or anyone's for policy admins and site admins."""
    acknowledgement = (
        Acknowledgement.objects.select_related("person", "version__policy", "on_behalf_by")
        .filter(pk=pk)
        .first()
    )
    if acknowledgement is None:
        raise Http404("No such acknowledgement.")
    if acknowledgement.person_id != user.pk and not (can_manage(user) or roles.is_site_admin(user)):
        raise PermissionDenied
    return acknowledgement


def get_version_to_manage(user, pk: int) -> PolicyVersion:
    if not can_manage(user):
        raise PermissionDenied
    version = PolicyVersion.objects.select_related("policy", "author", "approver").filter(pk=pk)
    version = version.first()
    if version is None:
        raise Http404("No such version.")
    return version


def get_policy_to_manage(user, pk: int) -> Policy:
    if not can_manage(user):
        raise PermissionDenied
    policy = Policy.objects.select_related("owner").filter(pk=pk).first()
    if policy is None:
        raise Http404("No such policy.")
    return policy


def get_translation_to_manage(user, pk: int, language: str) -> PolicyTranslation:
    """A version's translation into `language`, for policy admins only."""
    version = get_version_to_manage(user, pk)
    translation = version.translations.filter(language=language).first()
    if translation is None:
        raise Http404("No such translation.")
    translation.version = version
    return translation
