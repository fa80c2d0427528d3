from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from notifications.forms import PreferencesForm
from notifications.models import OptOut, Preference
from notifications.services import NotificationError, set_preferences


@require_http_methods(["GET", "POST"])
def preferences(request):
    """Each person chooses digest or immediate, and which optional reminders they get."""
    user = request.user
    current = Preference.objects.filter(user=user).values_list("delivery", flat=True).first()
    switched_off = set(OptOut.objects.filter(user=user).values_list("kind", flat=True))
    form = PreferencesForm(request.POST or None)
    if request.method == "GET":
        form = PreferencesForm(
            initial={
                "delivery": current or Preference.Delivery.DIGEST,
                "receive": [k.name for k in form.optional_kinds if k.name not in switched_off],
            }
        )
    elif form.is_valid():
        try:
            set_preferences(
                user=user,
                delivery=form.cleaned_data["delivery"],
                switched_off=form.switched_off(),
            )
        except NotificationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Your reminder preferences are saved.")
            return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
