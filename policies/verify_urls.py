from django.urls import path

from policies import verify_views

urlpatterns = [path("acknowledgements/verify/", verify_views.verify, name="verify")]
