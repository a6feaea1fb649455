"""Rate limits of the public entry points, on django-ratelimit.

django-ratelimit (well kept, atomic ``incr`` on a shared cache) counts; this
module only names the limits and finds the client IP, by a rule of its own
(:func:`client_ip`): django-ipware's trusted-proxy list means another one.
"""

from __future__ import annotations

import logging
import unicodedata

from django_ratelimit.core import get_usage, is_ratelimited

from . import conf
from .services import customers

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The address rate limits count by. ``X-Forwarded-For`` is believed only
    when the request comes from a proxy listed in
    ``VIVADESK["TRUSTED_PROXIES"]``: the client is then the right-most address
    in it that is not one of those proxies. A spoofed header from anyone else
    is ignored.

    django-ipware cannot express this. Its ``proxy_trusted_ips`` never looks
    at ``REMOTE_ADDR``: a client that connects directly and sends
    ``X-Forwarded-For: <any address>, <proxy>`` picks its own address. The
    list is matched by position against the header's last hops: behind one
    nginx (whose header holds only its peer, the client), or on a path
    through fewer proxies than are listed, it gives no address at all.
    """
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


def _wait(request, group: str, key: str, rate_setting: str) -> int:
    """Count one request; 0 when it is within the limit, otherwise the
    seconds until the window ends (for ``Retry-After``)."""
    usage = get_usage(
        request,
        group=f"vivadesk.{group}",
        key=lambda _group, _request: key,
        rate=conf.get(rate_setting),
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return 0
    return max(usage["time_left"], 1)


def _form_usage(request, *, increment: bool) -> dict | None:
    ip = client_ip(request)
    return get_usage(
        request,
        group="vivadesk.form-ip",
        key=lambda _group, _request: ip,
        rate=conf.get("RATE_FORM_PER_IP"),
        increment=increment,
    )


def form_post_wait(request) -> int:
    """Seconds until the client IP may send the contact form again; 0 when
    it may now. Reads the counter without counting: only stored posts count
    (:func:`count_form_post`), so a post that comes back with errors, or
    this one when it is refused, costs nothing. Two posts checked at once
    may both pass at the limit's edge; the counter stays exact."""
    usage = _form_usage(request, increment=False)
    if usage is None or usage["count"] < usage["limit"]:
        return 0
    return max(usage["time_left"], 1)


def count_form_post(request) -> None:
    """Count one stored contact-form post (a ticket, or caught as spam)."""
    _form_usage(request, increment=True)


def activation_resend_wait(request) -> int:
    """Count one request for a new activation link; 0 when it may go ahead,
    otherwise the seconds until the client IP may ask again."""
    return _wait(request, "resend-ip", client_ip(request), "RATE_ACTIVATION_RESEND")


def confirmation_allowed(request, address: str) -> bool:
    """Whether one more confirmation mail may go to ``address`` (per-address
    and global caps). Counting happens here, once per decision."""
    if _limited(
        request,
        "confirm-address",
        address_key(address),
        "RATE_CONFIRMATIONS_PER_ADDRESS",
    ):
        return False
    if _limited(request, "confirm-global", "all", "RATE_CONFIRMATIONS_GLOBAL"):
        # Tickets are still opened (staff are told of each), but their
        # senders get no confirmation: operations must hear of it.
        logger.warning(
            "The global cap of confirmation mails (%s) is reached: no "
            "confirmation for a new request from an unconfirmed address",
            conf.get("RATE_CONFIRMATIONS_GLOBAL"),
        )
        return False
    return True


def address_key(value: str) -> str:
    """The key of an address (or user name) in the per-address counters: the
    address as the customer login and look-ups match it
    (``customers.normalize_email``, lower-cased), so every spelling that
    reaches one account (``Alice@Example.com``, the domain in Unicode or in
    IDNA) counts on one counter. What that refuses (look-alikes such as
    ``alice@ｅxample.com``, which reach no account) and staff user names are
    NFKC-folded, trimmed and lower-cased."""
    try:
        key = customers.normalize_email(value).lower()
    except customers.InvalidAddressError:
        key = unicodedata.normalize("NFKC", value or "").strip().lower()
    return key[:254]


def login_account_key(username: str) -> str:
    """The per-account login counter's key (see :func:`address_key`)."""
    return address_key(username)


def password_reset_limited(request, address: str) -> bool:
    """Count one password-reset request for the client IP and for the
    address; ``True`` (and a warning in the log) when either is over its
    limit: then no reset mail may go out."""
    ip = client_ip(request)
    checks = (
        ("reset-ip", ip, "RATE_PASSWORD_RESET_PER_IP"),
        ("reset-address", address_key(address), "RATE_PASSWORD_RESET_PER_ADDRESS"),
    )
    over = [
        setting
        for group, key, setting in checks
        if _limited(request, group, key, setting)
    ]
    if over:
        logger.warning(
            "Password reset requested from %s: no mail sent, over %s",
            ip,
            " and ".join(f"{name} ({conf.get(name)})" for name in over),
        )
    return bool(over)


def portal_post_wait(request) -> int:
    """Count one comment or new request of the signed-in customer; 0 when it
    may go ahead, otherwise the seconds until they are below
    ``RATE_PORTAL_POSTS_PER_CUSTOMER`` again."""
    return _wait(
        request,
        "portal-post",
        str(request.user.pk),
        "RATE_PORTAL_POSTS_PER_CUSTOMER",
    )


def export_wait(request) -> int:
    """Count one data export the signed-in customer asks for; 0 when it may
    go ahead, otherwise the seconds until ``RATE_EXPORTS_PER_CUSTOMER``
    allows another."""
    return _wait(request, "export", str(request.user.pk), "RATE_EXPORTS_PER_CUSTOMER")


def erasure_mail_wait(request) -> int:
    """Count one erasure confirmation mail the signed-in customer asks for;
    0 when it may go out, otherwise the seconds until
    ``RATE_ERASURE_MAILS_PER_CUSTOMER`` allows another."""
    return _wait(
        request,
        "erasure-mail",
        str(request.user.pk),
        "RATE_ERASURE_MAILS_PER_CUSTOMER",
    )


def login_retry_after(request, username: str) -> int:
    """Count one login attempt for the client IP and for the submitted user
    name; return 0 when it may go ahead, otherwise the seconds until the
    exceeded window ends (for ``Retry-After``).

    Every POST counts, successful or not, whether the account exists or not:
    the answer never depends on the account. Windows are fixed, so a
    throttled owner can log in again at the latest when the window ends.
    """
    checks = [("login-ip", client_ip(request), "LOGIN_RATE_PER_IP")]
    account = login_account_key(username)
    if account:
        checks.append(("login-account", account, "LOGIN_RATE_PER_ACCOUNT"))
    wait = 0
    for group, key, rate_setting in checks:
        usage = get_usage(
            request,
            group=f"vivadesk.{group}",
            key=lambda _group, _request, key=key: key,
            rate=conf.get(rate_setting),
            increment=True,
        )
        if usage and usage["should_limit"]:
            wait = max(wait, usage["time_left"], 1)
    return wait
