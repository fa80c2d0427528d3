from django.urls import include, path

app_name = "incidents"
urlpatterns = [
    path("", include("incidents.report_urls")),
    path("", include("incidents.handling_urls")),
]
