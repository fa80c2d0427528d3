"""Who may do what in prevention: the one place that decides it.

- Everyone checks a post and asks comms; a person sees only their own reviews.
- Comms (and the comms lead) answer reviews and register intake sources.
- Comms and policy admins keep the watch list; policy admins turn answered reviews
  into examples on a policy section or a briefing.
"""

from django.http import Http404

from people import roles


def can_manage_watch_list(user) -> bool:
    return roles.is_comms(user) or roles.is_comms_lead(user) or roles.is_policy_admin(user)


def can_review_posts(user) -> bool:
    return roles.is_comms(user) or roles.is_comms_lead(user)


def can_manage_sources(user) -> bool:
    return roles.is_comms(user) or roles.is_comms_lead(user)


def can_keep_examples(user) -> bool:
    return roles.is_policy_admin(user) or can_review_posts(user)


def get_review_for(user, pk: int):
    """A review its requester or a reviewer may open; 404 for anyone else, so that
    nobody learns that someone else's draft exists."""
    from prevention.models import PostReview

    review = PostReview.objects.select_related("requester", "decided_by").filter(pk=pk).first()
    if review is None or not (review.requester_id == user.pk or can_review_posts(user)):
        raise Http404("No such review.")
    return review
