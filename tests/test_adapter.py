"""The host site's seams: an adapter named in ``VIVADESK["ADAPTER"]`` decides
mail languages, staff recipients, mail rendering and intake; the portal's and
the account pages' views take another ``template_name`` in a subclass."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tests import emails, factories
from vivadesk_wagtail import checks
from vivadesk_wagtail.accounts.views import ResendActivationView
from vivadesk_wagtail.adapter import (
    DefaultHelpdeskAdapter,
    Recipient,
    Rendered,
    get_adapter,
)
from vivadesk_wagtail.mail import account_notifications, outbound
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import Category, OutboundEmail, Ticket
from vivadesk_wagtail.portal.account import AccountView
from vivadesk_wagtail.portal.views import MyRequestsView, NewRequestView, TicketView
from vivadesk_wagtail.services import intake

HERE = "tests.test_adapter"
TEAM = "team@acme.example"


class EnglishMail(DefaultHelpdeskAdapter):
    def customer_language(self, profile, ticket=None):
        return "en"

    def staff_language(self, user):
        return "en"


class TeamNotices(DefaultHelpdeskAdapter):
    def staff_recipients(self, ticket, event):
        # The customer's own address and an empty one are left out.
        return [
            Recipient(TEAM, "en"),
            Recipient(ticket.customer.email, "de"),
            Recipient("", "de"),
        ]


class BrandedMail(DefaultHelpdeskAdapter):
    def render_mail(self, template_prefix, context):
        mail = super().render_mail(template_prefix, context)
        return Rendered(f"ACME: {mail.subject}", mail.text + "-- ACME", mail.html)


class StrictIntake(DefaultHelpdeskAdapter):
    def mail_ticket_refusal(self, profile, parsed):
        return "no_tickets_by_mail"

    def acknowledge_new_ticket(self, customer, channel, acknowledge):
        return False

    def new_ticket_category(self, customer, channel, category):
        return Category.objects.get_or_create(name=f"From {channel}")[0]


class NotAnAdapter:
    pass


@pytest.fixture
def use(settings):
    def use(name: str):
        settings.VIVADESK = {**settings.VIVADESK, "ADAPTER": f"{HERE}.{name}"}

    return use


def _rows(ticket, event):
    return list(OutboundEmail.objects.filter(ticket=ticket, event=event))


def test_the_setting_names_the_adapter(use):
    assert type(get_adapter()) is DefaultHelpdeskAdapter
    use("EnglishMail")
    assert type(get_adapter()) is EnglishMail
    request = RequestFactory().get("/")
    assert get_adapter(request).request is request


@pytest.mark.django_db
def test_the_adapter_decides_the_language_of_every_mail(use):
    use("EnglishMail")
    customer = factories.customer(language="de")
    ticket = factories.ticket(customer, language="de")
    (ack,) = _rows(ticket, "ticket_created")
    assert ack.language == "en"
    (notice,) = _rows(ticket, "staff_new_ticket")
    assert notice.language == "en"  # LANGUAGE_CODE is "de"
    newcomer = factories.customer("neu@example.com", confirmed=False, language="de")
    assert account_notifications.queue("activation", newcomer).language == "en"


@pytest.mark.django_db
def test_the_adapter_chooses_the_staff_recipients(use):
    use("TeamNotices")
    ticket = factories.ticket()
    notices = _rows(ticket, "staff_new_ticket")
    assert [(row.recipient, row.language) for row in notices] == [(TEAM, "en")]
    assert [row.recipient for row in _rows(ticket, "ticket_created")] == [
        "kunde@example.com"
    ]


@pytest.mark.django_db
def test_the_adapter_renders_the_mail(use):
    use("BrandedMail")
    ticket = factories.ticket()
    (row,) = _rows(ticket, "ticket_created")
    rendered = outbound.render(row)
    assert rendered.subject.startswith("ACME: ")
    assert f"[{ticket.reference}]" in rendered.subject
    assert rendered.text.endswith("-- ACME\n")


@pytest.mark.django_db
def test_the_adapter_decides_acknowledgement_and_category_of_a_form_post(use):
    use("StrictIntake")
    outcome = intake.receive(
        intake.Submission(
            name="Erika Mustermann",
            email="kunde@example.com",
            subject="Drucker",
            message="Er druckt nicht.",
            language="de",
        )
    )
    assert outcome.mail == intake.WITHHELD
    assert _rows(outcome.ticket, "ticket_created") == []
    assert outcome.ticket.category.name == "From web"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_content_types")
def test_the_adapter_may_refuse_a_ticket_by_mail(use):
    factories.customer()
    use("StrictIntake")
    result = ingest(emails.build(subject="Neue Frage"))
    assert (result.outcome, result.reason) == ("held", "no_tickets_by_mail")
    assert not Ticket.objects.exists()


@pytest.fixture
def host_templates(settings, tmp_path):
    """A host site's template folder, searched first."""
    (tmp_path / "host").mkdir()
    engine = {**settings.TEMPLATES[0]}
    engine["DIRS"] = [tmp_path, *engine.get("DIRS", [])]
    settings.TEMPLATES = [engine, *settings.TEMPLATES[1:]]
    return tmp_path / "host"


def _get(view, user=None, **kwargs):
    request = RequestFactory().get("/")
    request.user = user
    response = view.as_view()(request, **kwargs)
    response.render()
    return response.content.decode()


@pytest.mark.django_db
def test_a_view_subclass_renders_its_own_template(host_templates):
    (host_templates / "ticket.html").write_text(
        "HOST TICKET {{ ticket.reference }} {{ entries|length }}"
    )
    (host_templates / "list.html").write_text("HOST LIST {{ tickets|length }}")
    (host_templates / "new.html").write_text("HOST NEW {{ form.subject.name }}")
    (host_templates / "account.html").write_text("HOST ACCOUNT {{ account_form }}")
    (host_templates / "resend.html").write_text("HOST RESEND {{ form.email.name }}")
    ticket = factories.ticket()
    user = ticket.customer

    class HostTicketView(TicketView):
        template_name = "host/ticket.html"

    class HostListView(MyRequestsView):
        template_name = "host/list.html"

    class HostNewRequestView(NewRequestView):
        template_name = "host/new.html"

    class HostAccountView(AccountView):
        template_name = "host/account.html"

    class HostResendView(ResendActivationView):
        template_name = "host/resend.html"

    page = _get(HostTicketView, user, reference=ticket.reference)
    assert page == f"HOST TICKET {ticket.reference} 1"
    assert _get(HostListView, user) == "HOST LIST 1"
    assert _get(HostNewRequestView, user) == "HOST NEW subject"
    assert _get(HostAccountView, user).startswith("HOST ACCOUNT <")
    assert _get(HostResendView) == "HOST RESEND email"


def test_the_check_rejects_an_adapter_it_cannot_use(settings):
    for path in (f"{HERE}.NoSuchAdapter", f"{HERE}.NotAnAdapter", "no.such.module"):
        settings.VIVADESK = {**settings.VIVADESK, "ADAPTER": path}
        assert [e.id for e in checks.check_vivadesk_settings()] == ["vivadesk.E059"]
    settings.VIVADESK = {**settings.VIVADESK, "ADAPTER": f"{HERE}.StrictIntake"}
    assert checks.check_vivadesk_settings() == []
