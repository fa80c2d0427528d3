"""Everyone's training pages and the presenter's, mounted at /training/ (namespace `training`)."""

from django.urls import path

from training import views

urlpatterns = [
    path("", views.index, name="index"),
    path("sessions/<int:pk>/", views.session, name="session"),
    path("sessions/<int:pk>/calendar.ics", views.session_ics, name="session_ics"),
    path("sessions/<int:pk>/book/", views.book, name="book"),
    path("sessions/<int:pk>/book-for/", views.book_for, name="book_for"),
    path("sessions/<int:pk>/cancel-booking/", views.cancel_booking, name="cancel_booking"),
    path("sessions/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("sessions/<int:pk>/feedback/", views.feedback, name="feedback"),
    # For the presenter and the organisers.
    path("sessions/<int:pk>/roster/", views.roster, name="roster"),
    path("sessions/<int:pk>/complete/", views.complete_session, name="complete_session"),
    path("sessions/<int:pk>/catering/", views.catering, name="catering"),
    path("sessions/<int:pk>/check-in-sheet/", views.checkin_sheet, name="checkin_sheet"),
]
