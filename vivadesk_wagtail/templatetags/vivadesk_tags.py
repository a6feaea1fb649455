"""Template tags a host site puts into its own templates.

``{% vivadesk_requests_menu %}`` renders the "Requests" menu for the header's
top-right corner from ``vivadesk_wagtail/includes/requests_menu.html``; a site
restyles it by overriding that one template.
"""

from django import template

from .. import conf

register = template.Library()


@register.inclusion_tag(
    "vivadesk_wagtail/includes/requests_menu.html", takes_context=True
)
def vivadesk_requests_menu(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"request": request, "user": user}


@register.simple_tag
def vivadesk_helpdesk_email() -> str:
    return conf.helpdesk_email()
