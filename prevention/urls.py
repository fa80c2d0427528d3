from django.urls import include, path

app_name = "prevention"
urlpatterns = [
    # Check a post and Ask comms (every employee), the review queue (comms).
    path("", include("prevention.review_urls")),
    # The watch list (comms, policy admins).
    path("watch-list/", include("prevention.watchlist_urls")),
    # Intake sources (comms) and the signed webhook for social-listening tools.
    path("", include("prevention.intake_urls")),
]
