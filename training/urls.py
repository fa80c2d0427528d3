from django.urls import include, path

app_name = "training"
urlpatterns = [
    path("manage/", include("training.manage_urls")),
    path("compliance/", include("training.compliance_urls")),
    path("", include("training.employee_urls")),
]
