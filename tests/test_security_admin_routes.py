"""Help-desk data reaches agents only, through every admin route (issue 15,
item 2; DESIGN.md decision 8).

The walker takes every URL pattern the resolver has under ``/admin/`` and
``/django-admin/``, fills its path parameters with the ids of real help-desk
rows (tickets, messages, inbound and outbound mail, customer profiles,
attachments, contact-form posts caught as spam and the audit-log entries of
accepting and deleting them; app label / model name pairs and content-type
ids of the help-desk models), and GETs each URL as a Wagtail editor and as a moderator.
Any 2xx answer that carries one of the markers planted in those rows fails.
"""

from __future__ import annotations

import io
import itertools
import re
import time
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib.admin import AdminSite
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern
from django_mailbox.models import Mailbox, Message, MessageAttachment

from tests import emails, factories
from vivadesk_wagtail.admin import DjangoAdminLoginView
from vivadesk_wagtail.mail import inbound
from vivadesk_wagtail.models import Category, MailboxPoll, MessageKind
from vivadesk_wagtail.permissions import HELPDESK_MODELS
from vivadesk_wagtail.services import (
    data_requests,
    intake,
    presence,
    satisfaction,
    search_index,
    spam,
    tickets,
    uploads,
)
from vivadesk_wagtail.services.tickets import NewMessage
from vivadesk_wagtail.staff.admin_routes import HelpDeskSafeSnippetAPI

#: Planted in the help-desk rows; none may appear in an answer to a non-agent.
MARKERS = {
    "subject": "Zebraquokka",
    "body": "Narwhalbody",
    "note": "Pangolinnote",
    "reply": "Capybarareply",
    "customer_email": "wombatina.q9@example.com",
    "customer_name": "Wombatina",
    "attachment_name": "okapi-invoice",
    "attachment_data": "Okapicontent",
    "held_sender": "axolotl.sender@example.net",
    "held_subject": "Axolotlheld",
    "held_body": "Axolotlbody",
    "mailbox_subject": "Tapirmessage",
    "mailbox_attachment": "tapir-attachment",
    "spam_subject": "Quetzalspam",
    "spam_message": "Quetzalbody",
    "spam_sender": "quetzal.sender@example.org",
    "spam_file": "quetzal-file",
    "rating_comment": "Ibexrating",
}
ADMIN_PREFIXES = ("admin/", "django-admin/")
#: GETs with side effects that would end the walker's session.
SKIPPED_NAMES = {"wagtailadmin_logout", "logout"}
LOCALIZE_API = "/admin/localize/api/snippets/vivadesk_wagtail/ticket/"
User = get_user_model()


@dataclass
class Route:
    """One leaf URL pattern: its pattern objects from the root down."""

    parts: list
    name: str | None

    @property
    def template(self) -> str:
        return "".join(str(part) for part in self.parts)


def admin_routes() -> list[Route]:
    """Every leaf pattern under the admin prefixes, from the resolver."""
    found: list[Route] = []

    def walk(patterns, parts):
        for pattern in patterns:
            here = [*parts, pattern.pattern]
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, here)
            elif isinstance(pattern, URLPattern):
                found.append(Route(here, pattern.name))

    for top in get_resolver().url_patterns:
        if str(top.pattern).startswith(ADMIN_PREFIXES):
            if isinstance(top, URLResolver):
                walk(top.url_patterns, [top.pattern])
            else:
                found.append(Route([top.pattern], top.name))
    return found


ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>(?:[^()]|\([^()]*\))*)\)")


def param_names(route: Route) -> list[str]:
    names = []
    for part in route.parts:
        if isinstance(part, RoutePattern):
            names += [m["name"] for m in ROUTE_PARAM.finditer(str(part))]
        elif isinstance(part, RegexPattern):
            names += [m["name"] for m in REGEX_GROUP.finditer(str(part))]
    return names


def regex_choices(route: Route) -> dict[str, list[str]]:
    """Literal alternatives of regex groups (``auth|django_mailbox|…``)."""
    choices = {}
    for part in route.parts:
        if isinstance(part, RegexPattern):
            for match in REGEX_GROUP.finditer(str(part)):
                alternatives = match["body"].split("|")
                if all(re.fullmatch(r"[\w-]+", a) for a in alternatives):
                    choices[match["name"]] = alternatives
    return choices


def fill(route: Route, values: dict[str, str]) -> str:
    """The route's URL with ``values`` in its parameters."""
    out = ""
    for part in route.parts:
        text = str(part)
        if isinstance(part, RoutePattern):
            text = ROUTE_PARAM.sub(lambda m: values[m["name"]], text)
        elif isinstance(part, RegexPattern):
            text = REGEX_GROUP.sub(lambda m: values[m["name"]], text)
            text = text.removeprefix("^").removesuffix("$")
            text = text.replace(r"\.", ".").replace(".*", "x")
        out += text
    return "/" + out


@dataclass
class HelpDeskData:
    """Ids of the planted rows, per model (``app_label.model_name``)."""

    ids: dict[str, list[int]] = field(default_factory=dict)

    def all_ids(self) -> list[str]:
        return sorted({str(pk) for pks in self.ids.values() for pk in pks}, key=int)


APP_PARAMS = {"app_label", "app_name", "content_type_app_name"}
MODEL_PARAMS = {"model_name", "content_type_model_name"}
ID_PARAMS_OF_MODEL = {"pk", "object_id", "id", "snippet_id", "instance_id"}
WORDS = {
    "action": ["delete", "vivadesk_status", "vivadesk_assign"],
    "action_name": ["approve", "reject", "delete"],
    "mode": ["form"],
    "filter_spec": ["original"],
    "uidb64": ["MQ"],
    "token": ["set-password"],
    "url": ["vivadesk_wagtail/ticket"],
    "revision_id_a": ["earliest"],
    "revision_id_b": ["latest"],
}


def candidate_urls(route: Route, data: HelpDeskData) -> list[str]:
    """The URLs to try for one pattern (at least one, if it can be filled)."""
    names = param_names(route)
    if not names:
        return [fill(route, {})]
    choices = regex_choices(route)
    model_bound = [n for n in names if n in APP_PARAMS | MODEL_PARAMS]
    content_type_bound = "content_type_id" in names
    variants: list[dict[str, str]] = []
    if model_bound or content_type_bound:
        for dotted, pks in data.ids.items():
            app_label, model_name = dotted.split(".")
            ct = ContentType.objects.get_by_natural_key(app_label, model_name)
            for pk in pks or [0]:
                values = {}
                for name in names:
                    if name in APP_PARAMS:
                        values[name] = app_label
                    elif name in MODEL_PARAMS:
                        values[name] = model_name
                    elif name == "content_type_id":
                        values[name] = str(ct.pk)
                    elif name in ID_PARAMS_OF_MODEL:
                        values[name] = str(pk)
                variants.append(values)
    else:
        variants = [{}]
    urls = []
    for values in variants:
        free = [n for n in names if n not in values]
        options = []
        for name in free:
            if name in choices:
                options.append(choices[name])
            elif name in WORDS:
                options.append(WORDS[name])
            else:
                options.append(None)  # an id: filled below
        for combo in itertools.product(*[o or [None] for o in options]):
            filled = dict(values)
            id_names = []
            for name, value in zip(free, combo, strict=True):
                if value is None:
                    id_names.append(name)
                else:
                    filled[name] = value
            if id_names:
                for pk in data.all_ids():
                    urls.append(fill(route, {**filled, **dict.fromkeys(id_names, pk)}))
            else:
                urls.append(fill(route, filled))
    return list(dict.fromkeys(urls))


def plant_helpdesk_data(agent) -> HelpDeskData:
    """Tickets, messages, mail, profiles and attachments carrying MARKERS."""
    customer = factories.customer(
        MARKERS["customer_email"], name=f"{MARKERS['customer_name']} Quokkason"
    )
    ticket = factories.ticket(
        customer,
        subject=f"{MARKERS['subject']} druckt nicht",
        body=f"{MARKERS['body']} seit gestern",
        attachments=[
            uploads.from_bytes(
                f"{MARKERS['attachment_name']}.txt",
                f"{MARKERS['attachment_data']}\n".encode(),
            )
        ],
    )
    tickets.add_message(
        ticket,
        NewMessage(body=MARKERS["note"], kind=MessageKind.NOTE, author=agent),
    )
    tickets.add_message(
        ticket,
        NewMessage(body=MARKERS["reply"], kind=MessageKind.STAFF, author=agent),
    )
    tickets.assign(ticket, agent, by=agent)
    tickets.change_status(ticket, "done", by=agent)
    satisfaction.rate(ticket, "bad", comment=f"{MARKERS['rating_comment']} slow")
    presence.touch(ticket, agent)
    inbound.ingest(
        emails.build(
            sender=MARKERS["held_sender"],
            subject=MARKERS["held_subject"],
            body=MARKERS["held_body"],
        ),
        source="test",
    )
    _legacy_mailbox_message()
    _caught_posts(agent)
    data_requests.request_export(customer)
    search_index.update_changed()
    data = HelpDeskData()
    for label in sorted(HELPDESK_MODELS):
        rows = apps.get_model(label)._default_manager.values_list("pk", flat=True)
        data.ids[label] = sorted(rows)
        assert data.ids[label], f"no {label} row planted"
    data.ids["auth.user"] = [customer.pk]
    return data


def _caught_posts(agent) -> None:
    """Contact-form posts the spam traps caught: one kept (with a file), one
    deleted and one accepted by an agent (their audit-log entries)."""

    def caught(subject: str) -> int:
        return spam.catch(
            intake.Submission(
                name="Quetzal Sender",
                email=MARKERS["spam_sender"],
                subject=subject,
                message=f"{MARKERS['spam_message']} cheap pills",
                language="de",
                attachments=[
                    uploads.from_bytes(
                        f"{MARKERS['spam_file']}.txt", b"Quetzal file data\n"
                    )
                ],
            ),
            "honeypot",
            "https://cheap.example",
        )

    caught(f"{MARKERS['spam_subject']} kept")
    spam.delete(caught(f"{MARKERS['spam_subject']} deleted"), by=agent)
    spam.accept(caught(f"{MARKERS['spam_subject']} accepted"), by=agent)


def _legacy_mailbox_message() -> None:
    """A django-mailbox ``Message`` row (as its own pipeline would write)."""
    box, _created = Mailbox.objects.get_or_create(name="legacy", uri="")
    message = Message.objects.create(
        mailbox=box,
        subject=MARKERS["mailbox_subject"],
        from_header=MARKERS["held_sender"],
        to_header="helpdesk@viva.de",
        body=f"Subject: {MARKERS['mailbox_subject']}\n\n{MARKERS['held_body']}\n",
    )
    MailboxPoll.objects.create(mailbox=box)
    MessageAttachment.objects.create(
        message=message,
        headers=f"Content-Disposition: attachment; "
        f'filename="{MARKERS["mailbox_attachment"]}.html"',
        document=f"mailbox_attachments/{MARKERS['mailbox_attachment']}.html",
    )


def wagtail_group_member(username: str, group_name: str):
    """A user in one of the groups Wagtail's migrations create."""
    user = factories.StaffFactory(username=username)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@dataclass
class Walk:
    tried: list[str] = field(default_factory=list)
    patterns: set[str] = field(default_factory=set)
    leaks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def walk_as(user, data: HelpDeskData, only: tuple[str, ...] = ("",)) -> Walk:
    """GET every admin URL (whose template contains one of ``only``) as ``user``;
    list-like URLs (no id to fill) once more with :func:`query_for`."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    walk = Walk()
    markers = [m.encode() for m in MARKERS.values()]
    for route in admin_routes():
        if route.name in SKIPPED_NAMES or not any(o in route.template for o in only):
            continue
        walk.patterns.add(route.template)
        addresses = candidate_urls(route, data)
        if not set(param_names(route)) - set(regex_choices(route)) - set(WORDS):
            addresses += [f"{url}?{query_for(data)}" for url in addresses]
        elif "bulk" in route.template:
            addresses += [f"{url}?{query_for(data)}" for url in addresses]
        for address in addresses:
            walk.tried.append(address)
            response = client.get(address)
            if response.status_code >= 500:
                walk.errors.append(f"{response.status_code} {address}")
            if not 200 <= response.status_code < 300:
                continue
            content = body_of(response)
            found = [m.decode() for m in markers if m in content]
            if found:
                walk.leaks.append(f"{address} -> {found}")
    assert client.get("/admin/").status_code == 200, "the walk ended the session"
    return walk


def query_for(data: HelpDeskData) -> str:
    """A search that finds the planted ticket (without echoing a marker) and
    the ids bulk actions and choosers read from the query string."""
    ids = "&".join(f"id={pk}" for pk in data.all_ids())
    return f"q=druckt&{ids}"


@pytest.fixture
def helpdesk(db, django_capture_on_commit_callbacks):
    """The demo site (pages, translations, the demo inbox) plus the planted
    help-desk rows."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("vivadesk_demo", stdout=io.StringIO())
        agent = factories.StaffFactory(username="walker-agent")
        agent.groups.add(Group.objects.get(name="Help desk agents"))
        return plant_helpdesk_data(agent)


@pytest.mark.parametrize("group_name", ["Editors", "Moderators"])
def test_no_admin_route_shows_helpdesk_rows_to_a_non_agent(helpdesk, group_name):
    user = wagtail_group_member(f"walker-{group_name.lower()}", group_name)
    started = time.monotonic()
    walk = walk_as(user, helpdesk)
    print(
        f"{group_name}: {len(walk.patterns)} patterns, {len(walk.tried)} GETs in "
        f"{time.monotonic() - started:.1f}s; server errors: {walk.errors}"
    )
    assert len(walk.patterns) > 300, "the walker found too few admin URL patterns"
    assert len(walk.tried) > 1000, "the walker tried too few URLs"
    assert LOCALIZE_API in walk.tried
    assert f"{LOCALIZE_API}{helpdesk.ids['vivadesk_wagtail.ticket'][0]}/" in walk.tried
    assert not walk.leaks, "\n".join(walk.leaks)


def test_the_walker_sees_the_rows_an_agent_may_read(helpdesk):
    """The control: the same walk finds the markers where an agent looks."""
    agent = User.objects.get(username="walker-agent")
    walk = walk_as(
        agent,
        helpdesk,
        only=(
            "snippets/vivadesk_wagtail/ticket/",
            "snippets/vivadesk_wagtail/caughtsubmission/",
            "localize/api/",
        ),
    )
    leaked = "\n".join(walk.leaks)
    assert f"{LOCALIZE_API} -> " in leaked
    for marker in ("subject", "body", "note", "customer_email", "attachment_data"):
        assert MARKERS[marker] in leaked, marker
    for marker in ("spam_subject", "spam_message", "spam_sender", "spam_file"):
        assert MARKERS[marker] in leaked, marker


#: Models of the app that hold no customer data (configuration, counters,
#: the editors' pages, the company's own details); every other one must be
#: walked as help-desk data.
NOT_HELPDESK_DATA = {
    "vivadesk_wagtail.category",
    "vivadesk_wagtail.companydetails",
    "vivadesk_wagtail.ticketcounter",
    "vivadesk_wagtail.searchindexmark",
    "vivadesk_wagtail.contactpage",
    "vivadesk_wagtail.contactformfield",
    # An editor's privacy notice as shown under a contact form.
    "vivadesk_wagtail.privacynoticeversion",
    # Editors' canned replies and the service targets per category.
    "vivadesk_wagtail.textmodule",
    "vivadesk_wagtail.servicetarget",
}


def test_every_model_with_customer_data_is_walked():
    """A new model of the app (such as the caught contact-form posts) is
    help-desk data unless it is named above: the walker plants and tries
    the rows of every model in ``HELPDESK_MODELS``."""
    labels = {
        model._meta.label_lower
        for model in apps.get_app_config("vivadesk_wagtail").get_models()
    }
    assert labels - NOT_HELPDESK_DATA <= HELPDESK_MODELS
    assert "vivadesk_wagtail.caughtsubmission" in HELPDESK_MODELS


# -- wagtail-localize's snippet API --------------------------------------------


@pytest.mark.django_db
def test_localize_snippet_api_answers_help_desk_models_to_agents_only(client):
    from tests.staff_support import agents_group

    factories.ticket(subject=f"{MARKERS['subject']} Drucker")
    Category.objects.create(name="Allgemein")
    editor = wagtail_group_member("api-editor", "Editors")
    agent = factories.StaffFactory(username="api-agent")
    agent.groups.add(agents_group())
    category_api = "/admin/localize/api/snippets/vivadesk_wagtail/category/"
    client.force_login(editor)
    for model in ("ticket", "inboundmail", "outboundemail"):
        response = client.get(f"/admin/localize/api/snippets/vivadesk_wagtail/{model}/")
        assert response.status_code == 403, model
    assert MARKERS["subject"].encode() not in client.get(LOCALIZE_API).content
    # Categories are configuration; the translation editor shows a contact
    # page's category through this API.
    assert b"Allgemein" in client.get(category_api).content
    client.force_login(agent)
    response = client.get(LOCALIZE_API)
    assert response.status_code == 200
    assert MARKERS["subject"] in response.content.decode()


def test_localize_snippet_api_urls_resolve_to_the_guarded_view():
    """If wagtail-localize moves its API, the guard must move with it."""
    for name, args in (
        ("snippets_api_listing", ["vivadesk_wagtail", "ticket"]),
        ("snippets_api_detail", ["vivadesk_wagtail", "ticket", "1"]),
    ):
        match = resolve(reverse(f"wagtail_localize:{name}", args=args))
        assert match.func.cls is HelpDeskSafeSnippetAPI, name


# -- Django's admin: mounted with the login throttle ----------------------------

DJANGO_ADMIN_LOGIN = "/django-admin/login/"
THROTTLED_EN = "Too many login attempts. Please wait a few minutes and try again."


def django_admin_login(client, username, password, ip, **extra):
    return client.post(
        DJANGO_ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/django-admin/"},
        REMOTE_ADDR=ip,
        **extra,
    )


def test_no_url_reaches_an_unthrottled_django_admin_login():
    def callbacks(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from callbacks(pattern.url_patterns)
            else:
                yield str(pattern.pattern), pattern.callback

    for route, callback in callbacks(get_resolver().url_patterns):
        owner = getattr(callback, "__self__", None)
        assert not (
            isinstance(owner, AdminSite) and callback.__func__ is AdminSite.login
        ), f"{route} is Django's admin login without the throttle"
    assert resolve(DJANGO_ADMIN_LOGIN).func.view_class is DjangoAdminLoginView


@pytest.mark.django_db
def test_the_django_admin_login_is_throttled_like_the_wagtail_login(client):
    User.objects.create_superuser("chefin", "chefin@viva.de", "admin-pass-123")
    for n in range(10):
        response = django_admin_login(client, "chefin", "falsch", f"10.6.0.{n}")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    response = django_admin_login(
        client, "Chefin", "admin-pass-123", "10.6.1.1", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert THROTTLED_EN in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_django_admin_login_shares_the_wagtail_logins_counters(client):
    User.objects.create_superuser("chefin", "chefin@viva.de", "admin-pass-123")
    for n in range(10):
        client.post(
            reverse("wagtailadmin_login"),
            {"username": "chefin", "password": "falsch"},
            REMOTE_ADDR=f"10.5.0.{n}",
        )
    response = django_admin_login(client, "chefin", "admin-pass-123", "10.5.1.1")
    assert response.status_code == 429
    for n in range(30):
        django_admin_login(client, f"someone-{n}", "falsch", "10.4.4.4")
    response = client.post(
        reverse("wagtailadmin_login"),
        {"username": "other", "password": "x"},
        REMOTE_ADDR="10.4.4.4",
    )
    assert response.status_code == 429


@pytest.mark.django_db
def test_the_django_admin_login_still_logs_an_operator_in(client):
    User.objects.create_superuser("chefin", "chefin@viva.de", "admin-pass-123")
    page = client.get(DJANGO_ADMIN_LOGIN, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b'name="username"' in page.content
    response = client.post(
        DJANGO_ADMIN_LOGIN, {"username": "chefin", "password": "admin-pass-123"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/django-admin/"
    assert client.get("/django-admin/").status_code == 200
    # Logged in: the login page sends the operator on to the index.
    assert client.get(DJANGO_ADMIN_LOGIN)["Location"] == "/django-admin/"
