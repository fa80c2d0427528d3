"""{% kept "name" %}…{% endkept %}: a block of base.html a kept page keeps (policyhub.kept).

Rendering a kept page's view for the first time, the block's output is noted on the
request; serving it again, the noted output stands in for the block."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


class KeptNode(template.Node):
    def __init__(self, name: str, nodelist):
        self.name = name
        self.nodelist = nodelist

    def render(self, context):
        request = context.get("request")
        serving = getattr(request, "kept_serving", None)
        if serving is not None and self.name in serving:
            # Rendered (and escaped) by this same block for an earlier request.
            return mark_safe(serving[self.name])  # noqa: S308
        html = self.nodelist.render(context)
        noting = getattr(request, "kept_blocks", None)
        if noting is not None:
            noting[self.name] = str(html)
        return html


@register.tag("kept")
def kept(parser, token):
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError('Use {% kept "name" %}…{% endkept %}.')
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(bits[1][1:-1], nodelist)
