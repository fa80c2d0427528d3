"""Everyone's incident pages: reporting, My reports, the list, My actions, lessons."""

from django.urls import path

from incidents import views

urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.report, name="report"),
    path("report/own/", views.report_own, name="report_own"),
    path("<int:pk>/thanks/", views.thanks, name="thanks"),
    path("all/", views.incident_list, name="list"),
    path("my-actions/", views.my_actions, name="my_actions"),
    path("my-actions/<int:pk>/close/", views.close_action, name="close_action"),
    path("lessons/", views.lessons, name="lessons"),
    path("lessons/<int:pk>/", views.lesson, name="lesson"),
]
