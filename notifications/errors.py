"""The reminders' domain error, in a module of its own so that every part of the app
(the reminder engine, the outgoing webhooks, the views) can raise and catch it without
importing one another."""


class NotificationError(Exception):
    """A reminder request that cannot be carried out; the message is for people."""
