from django.urls import include, path

app_name = "policies"
urlpatterns = [
    path("manage/", include("policies.manage_urls")),
    path("", include("policies.verify_urls")),
    path("", include("policies.employee_urls")),
]
