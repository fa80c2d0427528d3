from django.urls import path

from incidents import views

urlpatterns = [path("", views.index, name="index")]
