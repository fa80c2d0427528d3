from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from notifications import chat
from notifications.forms import PreferencesForm
from notifications.models import Channel, OptOut, Preference
from notifications.services import NotificationError, set_preferences


@require_http_methods(["GET", "POST"])
def preferences(request):
    """Each person chooses email or chat (Slack, Microsoft Teams), digest or immediate,
    and which optional reminders they get."""
    user = request.user
    current = Preference.objects.filter(user=user).first()
    switched_off = set(OptOut.objects.filter(user=user).values_list("kind", flat=True))
    form = PreferencesForm(request.POST or None)
    if request.method == "GET":
        form = PreferencesForm(
            initial={
                "channel": current.channel if current else Channel.EMAIL,
                "chat_webhook_url": current.chat_webhook_url if current else "",
                "slack_member_id": current.slack_member_id if current else "",
                "delivery": current.delivery if current else Preference.Delivery.DIGEST,
                "receive": [k.name for k in form.optional_kinds if k.name not in switched_off],
            }
        )
    elif form.is_valid():
        data = form.cleaned_data
        try:
            set_preferences(
                user=user,
                delivery=data["delivery"],
                switched_off=form.switched_off(),
                channel=data["channel"],
                chat_webhook_url=data.get("chat_webhook_url", ""),
                slack_member_id=data.get("slack_member_id", ""),
            )
        except NotificationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your reminder preferences are saved."))
            return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "chat_failure": current if current is not None and current.chat_failed_at else None,
            "slack_app": bool(chat.slack_bot_token()),
        },
    )
