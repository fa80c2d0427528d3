"""Links in chat messages (emails/<name>-chat.txt): {% load chat %}{% chat_link url title %}.

Slack writes a link as <url|title>, Teams as Markdown [title](url). The output is
escaped as the rest of the template is; notifications.chat.render makes the whole
message right for the service afterwards.
"""

import re

from django import template
from django.utils.html import format_html

from notifications.models import Channel

register = template.Library()

MARKDOWN_LINK_TEXT = re.compile(r"([\[\]\\])")


@register.simple_tag(takes_context=True)
def chat_link(context, url, title=""):
    url, title = str(url), str(title or url)
    if context.get("chat_channel") == Channel.TEAMS:
        label = MARKDOWN_LINK_TEXT.sub(r"\\\1", title)
        target = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return format_html("[{}]({})", label, target)
    # Slack: the first "|" ends the address; ">" (escaped here) would end the link.
    return format_html("<{}|{}>", url.replace("|", "%7C"), title)


class BoldNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        marker = "**" if context.get("chat_channel") == Channel.TEAMS else "*"
        inner = self.nodelist.render(context).strip()
        return f"{marker}{inner}{marker}" if inner else ""


@register.tag
def bold(parser, token):
    """{% bold %}text{% endbold %}: *text* in Slack, **text** in Teams."""
    nodelist = parser.parse(("endbold",))
    parser.delete_first_token()
    return BoldNode(nodelist)
