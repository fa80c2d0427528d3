"""The app's URLs plus the bench's floor page (bench/floor.py); only `make bench` uses it,
through a settings override of ROOT_URLCONF."""

from django.urls import include, path

from bench.floor import floor

urlpatterns = [
    path("bench/floor/", floor, name="bench_floor"),
    path("", include("policyhub.urls")),
]
