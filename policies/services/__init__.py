"""Everything that changes policies, versions, assignments and acknowledgements.

One module per step of a policy's life; every public name is re-exported here, so
`from policies import services` and `services.publish(...)` work as before:

- authoring: create a policy, change its settings, write and edit drafts
- workflow: the transition table; review, approval, returning to draft, retiring
- publishing: publish now or at a scheduled time (and the beat task that does it)
- translations: a version's texts in other languages
- assignments: who has which version to acknowledge; reconciling with the audience
- acknowledging: the quiz, acknowledging (also on someone's behalf), declining
- chain: the hash chain of acknowledgements and its verification

Who a policy is for (its audience) is a read: policies.audience.
"""

from policies.audience import audience_ids, in_audience
from policies.services.acknowledging import (
    acknowledge,
    acknowledge_on_behalf,
    decline,
    reopen_declined,
    submit_quiz,
    text_held,
    text_shown,
)
from policies.services.assignments import open_assignment, reconcile_assignments
from policies.services.authoring import (
    EDITED_NOTE,
    create_draft,
    create_policy,
    update_draft,
    update_policy,
)
from policies.services.chain import (
    GENESIS_HASH,
    ChainVerdict,
    canonical_record,
    record_hash,
    verify_chain,
)
from policies.services.publishing import publish, publish_due_versions
from policies.services.translations import (
    TRANSLATION_OPEN,
    add_translation,
    remove_translation,
    translation_closed_reason,
    update_translation,
)
from policies.services.workflow import (
    TRANSITIONS,
    Status,
    approve,
    retire,
    return_to_draft,
    submit_for_review,
)

__all__ = [
    "EDITED_NOTE",
    "GENESIS_HASH",
    "TRANSITIONS",
    "TRANSLATION_OPEN",
    "ChainVerdict",
    "Status",
    "acknowledge",
    "acknowledge_on_behalf",
    "add_translation",
    "approve",
    "audience_ids",
    "canonical_record",
    "create_draft",
    "create_policy",
    "decline",
    "in_audience",
    "open_assignment",
    "publish",
    "publish_due_versions",
    "reconcile_assignments",
    "record_hash",
    "remove_translation",
    "reopen_declined",
    "retire",
    "return_to_draft",
    "submit_for_review",
    "submit_quiz",
    "text_held",
    "text_shown",
    "translation_closed_reason",
    "update_draft",
    "update_policy",
    "update_translation",
    "verify_chain",
]
