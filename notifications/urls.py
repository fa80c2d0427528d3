from django.urls import path

from notifications import mailbox_views, views, webhook_views

app_name = "notifications"
urlpatterns = [
    path("preferences/", views.preferences, name="preferences"),
    path("mail/", mailbox_views.mailbox, name="mailbox"),
    path("mail/<str:mail_id>/", mailbox_views.mailbox_message, name="mailbox_message"),
    path("webhooks/", webhook_views.subscriptions, name="webhooks"),
    path("webhooks/new/", webhook_views.subscription_add, name="webhook_add"),
    path("webhooks/<int:pk>/", webhook_views.subscription_detail, name="webhook"),
    path("webhooks/<int:pk>/edit/", webhook_views.subscription_edit, name="webhook_edit"),
    path("webhooks/<int:pk>/secret/", webhook_views.subscription_secret, name="webhook_secret"),
    path("webhooks/<int:pk>/delete/", webhook_views.subscription_delete, name="webhook_delete"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/resend/",
        webhook_views.delivery_resend,
        name="webhook_resend",
    ),
]
