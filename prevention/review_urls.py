"""Check a post and Ask comms (everyone), the review queue (comms), examples (comms
and policy admins)."""

from django.urls import path

from prevention import review_views as views

urlpatterns = [
    path("check/", views.check, name="check"),
    path("reviews/", views.my_reviews, name="my_reviews"),
    path("reviews/queue/", views.queue, name="queue"),
    path("reviews/<int:pk>/", views.review, name="review"),
    path("reviews/<int:pk>/answer/", views.decide, name="decide"),
    path("reviews/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("reviews/<int:pk>/keep/", views.keep_example, name="keep_example"),
    path("examples/", views.examples, name="examples"),
    path("examples/<int:pk>/attach/", views.attach_example, name="attach_example"),
    path("examples/<int:pk>/remove/", views.remove_example, name="remove_example"),
]
