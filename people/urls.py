from django.urls import path

from people import views

app_name = "people"
urlpatterns = [
    path("import/", views.import_people_page, name="import"),
    path("language/", views.language_page, name="language"),
]
