"""The watch list (comms, policy admins), under /prevention/watch-list/."""

from django.urls import path

from prevention import watchlist_views as views

urlpatterns = [
    path("", views.watchlist, name="watchlist"),
    path("new/", views.watchlist_add, name="watchlist_add"),
    path("history/", views.watchlist_history, name="watchlist_history"),
    path("<int:pk>/edit/", views.watchlist_edit, name="watchlist_edit"),
    path("<int:pk>/delete/", views.watchlist_delete, name="watchlist_delete"),
    path("<int:pk>/history/", views.watchlist_term_history, name="watchlist_term_history"),
    path(
        "from-lesson/<int:lesson_pk>/",
        views.watchlist_from_lesson,
        name="watchlist_from_lesson",
    ),
]
