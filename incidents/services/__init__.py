"""Everything that changes incidents, one module per workflow step:

- `reporting`: reporting an incident, its owner, its details, the people involved
- `workflow`: the table of statuses and `transition`, the one way an incident moves
- `containment`: takedown requests and holding statements
- `classification`: the guided assessment of each person involved and the track
- `remediation`: the remediation plan and its actions
- `review`: the blameless review, its sign-off and lessons

`common` holds what they share (the handler check, the version lock, the history row).
Every service takes keyword-only arguments, runs in one transaction, raises
`IncidentError` with a message a person can read, and takes `now=` where it records a
time. Import from here: `from incidents import services; services.transition(...)`.
"""

from incidents.services.classification import (
    answer,
    can_assess,
    choose_track,
    decide_authority_referral,
    finish_assessment,
    plain_answers,
    start_assessment,
    suggested_decision,
)
from incidents.services.common import CHANGED_MEANWHILE
from incidents.services.containment import (
    approve_statement,
    draft_statement,
    note_no_takedown,
    request_takedown,
    resolve_takedown,
)
from incidents.services.remediation import (
    PLAN_TEMPLATES,
    add_action,
    change_due_date,
    check_due_date,
    complete_action,
    default_due,
    fill_plan,
)
from incidents.services.reporting import (
    DETAIL_FIELDS,
    assign_owner,
    report_incident,
    set_people_involved,
    update_details,
)
from incidents.services.review import (
    REVIEW_FIELDS,
    add_to_briefing,
    identifying_details,
    open_policy_revision,
    publish_lesson,
    sign_off_review,
    write_review,
)
from incidents.services.workflow import TRANSITIONS, reopen, transition

__all__ = [
    "CHANGED_MEANWHILE",
    "DETAIL_FIELDS",
    "PLAN_TEMPLATES",
    "REVIEW_FIELDS",
    "TRANSITIONS",
    "add_action",
    "add_to_briefing",
    "answer",
    "approve_statement",
    "assign_owner",
    "can_assess",
    "change_due_date",
    "check_due_date",
    "choose_track",
    "complete_action",
    "decide_authority_referral",
    "default_due",
    "draft_statement",
    "fill_plan",
    "finish_assessment",
    "identifying_details",
    "note_no_takedown",
    "open_policy_revision",
    "plain_answers",
    "publish_lesson",
    "reopen",
    "report_incident",
    "request_takedown",
    "resolve_takedown",
    "set_people_involved",
    "sign_off_review",
    "start_assessment",
    "suggested_decision",
    "transition",
    "update_details",
    "write_review",
]
