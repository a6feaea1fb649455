"""Rate limits of the public entry points, on django-ratelimit.

django-ratelimit (well kept, atomic ``incr`` on a shared cache) counts; this
module only names the limits and finds the client IP. ``X-Forwarded-For`` is
believed only when the request comes from a proxy listed in
``VIVADESK["TRUSTED_PROXIES"]``: the client is then the right-most address
that is not one of those proxies. A spoofed header from anyone else is
ignored.
"""

from __future__ import annotations

from django_ratelimit.core import is_ratelimited

from . import conf


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = set(conf.get("TRUSTED_PROXIES"))
    if remote not in trusted:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return remote


def _limited(request, group: str, key: str, rate_setting: str) -> bool:
    return is_ratelimited(
        request,
        group=f"vivadesk.{group}",
        key=lambda _group, _request: key,
        rate=conf.get(rate_setting),
        increment=True,
    )


def form_post_limited(request) -> bool:
    return _limited(request, "form-ip", client_ip(request), "RATE_FORM_PER_IP")


def activation_resend_limited(request) -> bool:
    return _limited(request, "resend-ip", client_ip(request), "RATE_ACTIVATION_RESEND")


def confirmation_allowed(request, address: str) -> bool:
    """Whether one more confirmation mail may go to ``address`` (per-address
    and global caps). Counting happens here, once per decision."""
    if _limited(
        request, "confirm-address", address.lower(), "RATE_CONFIRMATIONS_PER_ADDRESS"
    ):
        return False
    return not _limited(request, "confirm-global", "all", "RATE_CONFIRMATIONS_GLOBAL")
