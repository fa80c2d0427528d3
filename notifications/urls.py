from django.urls import path

from notifications import mailbox_views, views

app_name = "notifications"
urlpatterns = [
    path("preferences/", views.preferences, name="preferences"),
    path("mail/", mailbox_views.mailbox, name="mailbox"),
    path("mail/<str:mail_id>/", mailbox_views.mailbox_message, name="mailbox_message"),
]
