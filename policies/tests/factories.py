"""Published policies built the way people build them: through the services."""

from __future__ import annotations

from policies import services
from policies.models import Policy, PolicyVersion, QuizQuestion

BODY_1 = """\
Intro text for everyone.

## Personal accounts

Say that your views are your own.

## Confidential information

Never post customer data or unannounced products.
"""

BODY_2 = """\
Intro text for everyone.

## Personal accounts

Say that your views are your own, and do not use the company logo.

## Confidential information

Never post customer data or unannounced products.

## Getting help

Ask the communications team before you reply to a journalist.
"""


def publish_version(
    policy: Policy,
    *,
    author,
    approver,
    body: str,
    change: str = PolicyVersion.Change.MATERIAL,
    change_summary: str = "",
    questions: list[tuple[str, list[str], int]] = (),
    pass_mark: int = 80,
) -> PolicyVersion:
    """Draft, review, approve (by someone else) and publish a version now."""
    version = services.create_draft(
        policy=policy, author=author, body=body, change=change, change_summary=change_summary
    )
    for position, (text, choices, correct) in enumerate(questions):
        QuizQuestion.objects.create(
            version=version, position=position, text=text, choices=choices, correct=correct
        )
    if pass_mark != version.pass_mark:
        version.pass_mark = pass_mark
        version.save(update_fields=["pass_mark"])
    services.submit_for_review(version=version, user=author)
    services.approve(version=version, user=approver)
    return services.publish(version=version, user=approver)


def published_policy(
    *,
    title: str,
    owner,
    approver,
    body: str = BODY_1,
    audience: str = Policy.Audience.EVERYONE,
    departments=(),
    groups=(),
    **version_options,
) -> tuple[Policy, PolicyVersion]:
    """A new policy whose first version is published (and so assigned to its audience)."""
    policy = services.create_policy(
        title=title, owner=owner, audience=audience, departments=departments, groups=groups
    )
    version = publish_version(policy, author=owner, approver=approver, body=body, **version_options)
    return policy, version
