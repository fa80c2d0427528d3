"""Handling an incident, one module per workflow step:

- `page`: the incident page, for each level of access
- `triage`: triage and containment (owner, details, people involved, the workflow's
  buttons, takedowns, holding statements, evidence)
- `classification`: the guided assessment of each person involved, and the track
- `remediation`: the remediation plan and its actions
- `review`: the blameless review, its sign-off, and lessons

Every view loads the incident through `get_incident_for` (404 for anyone who may not
open it), checks the role for what it does, validates a form, calls a service and
reports with `messages`. A service's `IncidentError`, including a stale `version`,
becomes an error message and writes nothing. `shared` holds the helpers for that.
"""

from incidents.handling_views.classification import (
    assessment,
    assessment_authority_referral,
    assessment_finish,
    assessment_new,
    choose_track,
)
from incidents.handling_views.page import detail
from incidents.handling_views.remediation import (
    add_action,
    change_due_date,
    complete_action,
    fill_plan,
)
from incidents.handling_views.review import (
    lesson_briefing,
    lesson_policy_revision,
    publish_lesson,
    sign_off_review,
    write_review,
)
from incidents.handling_views.triage import (
    assign_owner,
    edit_details,
    evidence_file,
    evidence_upload,
    evidence_withdraw,
    no_takedown,
    people_involved,
    reopen,
    statement_approve,
    statement_draft,
    takedown_request,
    takedown_resolve,
    transition,
)

__all__ = [
    "add_action",
    "assessment",
    "assessment_authority_referral",
    "assessment_finish",
    "assessment_new",
    "assign_owner",
    "change_due_date",
    "choose_track",
    "complete_action",
    "detail",
    "edit_details",
    "evidence_file",
    "evidence_upload",
    "evidence_withdraw",
    "fill_plan",
    "lesson_briefing",
    "lesson_policy_revision",
    "no_takedown",
    "people_involved",
    "publish_lesson",
    "reopen",
    "sign_off_review",
    "statement_approve",
    "statement_draft",
    "takedown_request",
    "takedown_resolve",
    "transition",
    "write_review",
]
