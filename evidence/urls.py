from django.urls import path

from evidence import views

app_name = "evidence"
urlpatterns = [
    path("", views.issued, name="issued"),
    path("verify/", views.verify, name="verify"),
    path("receipts/<int:pk>.pdf", views.receipt, name="receipt"),
    path("policy-versions/<int:pk>/evidence-pack.pdf", views.evidence_pack, name="evidence_pack"),
    path("incidents/<int:pk>/closure-report.pdf", views.closure_report, name="closure_report"),
]
