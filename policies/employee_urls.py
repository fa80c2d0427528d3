from django.urls import path

from policies import views

urlpatterns = [
    path("", views.index, name="index"),
    path("acknowledgements/<int:pk>/", views.receipt, name="receipt"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<slug:slug>/quiz/", views.quiz, name="quiz"),
    path("<slug:slug>/decline/", views.decline, name="decline"),
]
