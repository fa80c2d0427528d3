"""The team's incident pages: the incident page, its forms, the guided assessment and
evidence. Names are part of the `incidents` namespace."""

from django.urls import path

from incidents import handling_views as views

urlpatterns = [
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/owner/", views.assign_owner, name="assign_owner"),
    path("<int:pk>/details/", views.edit_details, name="edit_details"),
    path("<int:pk>/people/", views.people_involved, name="people_involved"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/takedowns/", views.takedown_request, name="takedown_request"),
    path(
        "<int:pk>/takedowns/<int:takedown_pk>/resolve/",
        views.takedown_resolve,
        name="takedown_resolve",
    ),
    path("<int:pk>/no-takedown/", views.no_takedown, name="no_takedown"),
    path("<int:pk>/statements/", views.statement_draft, name="statement_draft"),
    path(
        "<int:pk>/statements/<int:statement_pk>/approve/",
        views.statement_approve,
        name="statement_approve",
    ),
    path("<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("<int:pk>/evidence/<int:evidence_pk>/file", views.evidence_file, name="evidence_file"),
    path(
        "<int:pk>/evidence/<int:evidence_pk>/withdraw/",
        views.evidence_withdraw,
        name="evidence_withdraw",
    ),
    path("<int:pk>/track/", views.choose_track, name="choose_track"),
    path("<int:pk>/plan/", views.fill_plan, name="fill_plan"),
    path("<int:pk>/actions/", views.add_action, name="add_action"),
    path(
        "<int:pk>/actions/<int:action_pk>/complete/",
        views.complete_action,
        name="complete_action",
    ),
    path(
        "<int:pk>/actions/<int:action_pk>/due-date/",
        views.change_due_date,
        name="change_due_date",
    ),
    path("<int:pk>/review/", views.write_review, name="write_review"),
    path("<int:pk>/review/sign-off/", views.sign_off_review, name="sign_off_review"),
    path("<int:pk>/lessons/", views.publish_lesson, name="publish_lesson"),
    path(
        "lessons/<int:lesson_pk>/policy-revision/",
        views.lesson_policy_revision,
        name="lesson_policy_revision",
    ),
    path("lessons/<int:lesson_pk>/briefing/", views.lesson_briefing, name="lesson_briefing"),
    path("<int:pk>/assessments/new/", views.assessment_new, name="assessment_new"),
    path(
        "<int:pk>/assessments/<int:assessment_pk>/",
        views.assessment,
        name="assessment",
    ),
    path(
        "<int:pk>/assessments/<int:assessment_pk>/finish/",
        views.assessment_finish,
        name="assessment_finish",
    ),
    path(
        "<int:pk>/assessments/<int:assessment_pk>/authority-referral/",
        views.assessment_authority_referral,
        name="assessment_authority_referral",
    ),
]
