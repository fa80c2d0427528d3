from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications import chat, http, webhooks
from notifications.models import Channel, Preference, WebhookSubscription
from notifications.registry import all_kinds

CHAT_ADDRESS_HELP = gettext_lazy(
    "For Slack or Microsoft Teams: the address of an incoming webhook that posts to you "
    "(Slack: https://hooks.slack.com/services/…; Teams: a Workflows “post to a chat when "
    "a webhook request is received” flow, or an incoming webhook connector)."
)
SLACK_MEMBER_HELP = gettext_lazy(
    "For Slack, instead of a webhook: your member ID (in Slack: your profile, ⋮, Copy member "
    "ID), and PolicyHub's Slack app writes to you directly."
)


class PreferencesForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Send my reminders by"),
        choices=Channel.choices,
        widget=forms.RadioSelect,
    )
    chat_webhook_url = forms.CharField(
        label=gettext_lazy("Chat webhook address"),
        required=False,
        max_length=500,
        help_text=CHAT_ADDRESS_HELP,
    )
    slack_member_id = forms.CharField(
        label=gettext_lazy("Slack member ID"),
        required=False,
        max_length=20,
        help_text=SLACK_MEMBER_HELP,
    )
    delivery = forms.ChoiceField(
        label=gettext_lazy("Non-urgent reminders"),
        choices=Preference.Delivery.choices,
        widget=forms.RadioSelect,
    )
    receive = forms.MultipleChoiceField(
        label=gettext_lazy("Optional reminders I receive"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Untick a reminder to switch it off."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.optional_kinds = [kind for kind in all_kinds() if not kind.mandatory]
        self.mandatory_kinds = [kind for kind in all_kinds() if kind.mandatory]
        self.fields["receive"].choices = [(kind.name, kind.label) for kind in self.optional_kinds]
        if not self.optional_kinds:
            del self.fields["receive"]
        self.slack_app = bool(chat.slack_bot_token())
        if not self.slack_app:
            del self.fields["slack_member_id"]

    def clean(self):
        cleaned = super().clean()
        channel = cleaned.get("channel")
        if channel and not self.errors:
            try:
                target = chat.clean_chat_settings(
                    channel=channel,
                    webhook_url=cleaned.get("chat_webhook_url", ""),
                    slack_member_id=cleaned.get("slack_member_id", ""),
                )
            except chat.ChatSettingsError as error:
                field = error.field if error.field in self.fields else None
                self.add_error(field, str(error))
            else:
                cleaned["chat_webhook_url"] = target.webhook_url
                cleaned["slack_member_id"] = target.slack_member_id
        return cleaned

    def switched_off(self) -> set[str]:
        receive = set(self.cleaned_data.get("receive", []))
        return {kind.name for kind in self.optional_kinds} - receive


class WebhookSubscriptionForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Which system receives it, e.g. “GRC tool”."),
    )
    url = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=500,
        help_text=gettext_lazy(
            "The https:// address PolicyHub posts each event to, on the public internet."
        ),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=lambda: [(event, webhooks.event_label(event)) for event in webhooks.EVENTS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one event.")},
    )
    active = forms.BooleanField(
        label=gettext_lazy("Active"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Untick to stop sending."),
    )

    def __init__(self, *args, subscription: WebhookSubscription | None = None, **kwargs):
        self.subscription = subscription
        if subscription is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": subscription.name,
                    "url": subscription.url,
                    "events": subscription.events,
                    "active": subscription.active,
                },
            )
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = WebhookSubscription.objects.filter(name__iexact=name)
        if self.subscription is not None:
            taken = taken.exclude(pk=self.subscription.pk)
        if taken.exists():
            raise forms.ValidationError(_("There is already a subscription with this name."))
        return name

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            http.vet(url, what=_("The address"))
        except http.AddressError as error:
            raise forms.ValidationError(str(error)) from None
        return url
