"""Browsing executions and messages: filters, search, read-only, access labels, query counts."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audiences.models import IdentityNamespace
from campaigns.services.lifecycle import campaign_activate
from core.actors import Actor
from core.scopes import EXECUTIONS_TRIGGER
from delivery.models import Execution, Message
from tests.delivery.admin_helpers import recipient, staff_with, trigger
from tests.factories import AccessLabelFactory, CampaignFactory, SmsConfigurationFactory

pytestmark = pytest.mark.django_db

EXECUTIONS = reverse("admin:delivery_execution_changelist")
MESSAGES = reverse("admin:delivery_message_changelist")


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return sorted(str(row.pk) for row in response.context["cl"].result_list)


def _date_choice(client: Client, label: str) -> str:
    """The query string of one choice of the message list's date filter."""
    page = client.get(MESSAGES)
    for spec in page.context["cl"].filter_specs:
        if isinstance(spec, admin.DateFieldListFilter):
            for choice in spec.choices(page.context["cl"]):
                if choice["display"] == label:
                    return str(choice["query_string"])
    raise AssertionError(f"no date choice {label}")


@pytest.fixture
def two_calls(api_client, live_campaign, send_inline, django_capture_on_commit_callbacks):
    """An email campaign sent to two people and an SMS campaign sent to one."""
    receipts = live_campaign(name="Receipts", create_new_profiles=True)
    texts = live_campaign(
        name="Texts",
        channel="sms",
        channel_configuration=SmsConfigurationFactory.create(),
        identity_namespace=IdentityNamespace.objects.get(code="phone"),
        create_new_profiles=True,
        content={"en": {"body": "Code {{ context.code }}"}},
    )
    client = api_client(EXECUTIONS_TRIGGER)
    email_call = trigger(
        client,
        django_capture_on_commit_callbacks,
        receipts,
        [recipient("ana@example.com"), recipient("bo@example.com")],
        request_id="order-1",
    )
    sms_call = trigger(
        client,
        django_capture_on_commit_callbacks,
        texts,
        [{"type": "aep", "namespace": "phone", "userId": "+14165550100"}],
        request_id="otp-7",
        context={"code": "1234"},
    )
    return receipts, texts, email_call, sms_call


def test_executions_are_listed_filtered_and_searched(admin_client: Client, two_calls) -> None:
    receipts, _texts, email_call, sms_call = two_calls
    both = sorted([str(email_call.pk), str(sms_call.pk)])

    assert _ids(admin_client.get(EXECUTIONS)) == both
    assert _ids(admin_client.get(EXECUTIONS, {"campaign": str(receipts.pk)})) == [
        str(email_call.pk)
    ]
    assert _ids(admin_client.get(EXECUTIONS, {"status__exact": "succeeded"})) == both
    assert _ids(admin_client.get(EXECUTIONS, {"status__exact": "failed"})) == []
    assert _ids(admin_client.get(EXECUTIONS, {"campaign__channel__exact": "sms"})) == [
        str(sms_call.pk)
    ]
    year = timezone.now().year
    assert _ids(admin_client.get(EXECUTIONS, {"created_at__year": str(year)})) == both
    assert _ids(admin_client.get(EXECUTIONS, {"created_at__year": str(year - 1)})) == []
    assert _ids(admin_client.get(EXECUTIONS, {"q": "otp-7"})) == [str(sms_call.pk)]
    assert _ids(admin_client.get(EXECUTIONS, {"q": str(email_call.pk)})) == [str(email_call.pk)]
    assert _ids(admin_client.get(EXECUTIONS, {"is_test__exact": "1"})) == []
    filters = admin_client.get(EXECUTIONS).content.decode()
    assert "Receipts" in filters and "Texts" in filters


def test_an_execution_shows_its_counts_and_links_to_its_messages(
    admin_client: Client, two_calls
) -> None:
    _receipts, _texts, email_call, _sms_call = two_calls

    page = admin_client.get(reverse("admin:delivery_execution_change", args=[email_call.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    messages_of_it = f"{MESSAGES}?execution={email_call.pk}"
    assert f'href="{messages_of_it}"' in html
    assert (
        f'<tr class="count-sent"><th scope="row">Sent</th>'
        f'<td><a href="{messages_of_it}&amp;status__exact=sent">2</a></td></tr>'
    ) in html
    assert (
        f'<tr class="count-failed"><th scope="row">Failed</th>'
        f'<td><a href="{messages_of_it}&amp;status__exact=failed">0</a></td></tr>'
    ) in html
    assert "order-1" in html
    assert 'name="_save"' not in html  # read-only
    listed = admin_client.get(MESSAGES, {"execution": str(email_call.pk)})
    assert _ids(listed) == sorted(str(m.pk) for m in email_call.messages.all())


def test_delivery_records_cannot_be_added_changed_or_deleted(
    admin_client: Client, two_calls
) -> None:
    _receipts, _texts, email_call, _sms_call = two_calls
    message = email_call.messages.first()
    assert message is not None

    add = admin_client.get(reverse("admin:delivery_message_add"))
    delete = admin_client.post(
        reverse("admin:delivery_message_delete", args=[message.pk]), {"post": "yes"}
    )
    change = admin_client.post(
        reverse("admin:delivery_message_change", args=[message.pk]), {"status": "queued"}
    )
    execution_delete = admin_client.post(
        reverse("admin:delivery_execution_delete", args=[email_call.pk]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    assert execution_delete.status_code == 403
    assert Message.objects.get(pk=message.pk).status == "sent"
    assert Execution.objects.count() == 2
    listing = admin_client.get(MESSAGES).content.decode()
    assert 'name="action"' not in listing  # no bulk actions, no delete_selected


def test_messages_are_filtered_and_searched_by_address_user_id_and_request_id(
    admin_client: Client, two_calls
) -> None:
    receipts, _texts, email_call, sms_call = two_calls
    ana = Message.objects.get(address="ana@example.com")
    bo = Message.objects.get(address="bo@example.com")
    phone = Message.objects.get(address="+14165550100")
    everyone = sorted(str(m.pk) for m in (ana, bo, phone))

    assert _ids(admin_client.get(MESSAGES)) == everyone
    assert _ids(admin_client.get(MESSAGES, {"campaign": str(receipts.pk)})) == sorted(
        [str(ana.pk), str(bo.pk)]
    )
    assert _ids(admin_client.get(MESSAGES, {"channel__exact": "sms"})) == [str(phone.pk)]
    assert _ids(admin_client.get(MESSAGES, {"status__exact": "sent"})) == everyone
    assert _ids(admin_client.get(MESSAGES, {"status__exact": "failed"})) == []
    assert _ids(admin_client.get(MESSAGES, {"recipient_type__exact": "external"})) == []
    assert _ids(admin_client.get(MESSAGES + _date_choice(admin_client, "Today"))) == everyone
    # Search: any part of an address (any case), a phone number written any way, a
    # user id, a request id, a message id or an execution id.
    assert _ids(admin_client.get(MESSAGES, {"q": "ANA@"})) == [str(ana.pk)]
    assert _ids(admin_client.get(MESSAGES, {"q": "(416) 555-0100"})) == [str(phone.pk)]
    assert _ids(admin_client.get(MESSAGES, {"q": "bo@example.com"})) == [str(bo.pk)]
    assert _ids(admin_client.get(MESSAGES, {"q": "otp-7"})) == [str(phone.pk)]
    assert _ids(admin_client.get(MESSAGES, {"q": "otp"})) == []  # request ids match exactly
    assert _ids(admin_client.get(MESSAGES, {"q": str(ana.pk)})) == [str(ana.pk)]
    assert _ids(admin_client.get(MESSAGES, {"q": str(sms_call.pk)})) == [str(phone.pk)]
    assert _ids(admin_client.get(MESSAGES, {"execution__is_test__exact": "1"})) == []
    assert len(_ids(admin_client.get(MESSAGES, {"q": str(email_call.pk)}))) == 2


def test_records_of_a_campaign_with_a_label_the_user_lacks_are_hidden(
    client: Client, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    label = AccessLabelFactory.create(name="vip")
    secret = CampaignFactory.create(name="VIP offers", create_new_profiles=True)
    secret.access_labels.add(label)
    secret = campaign_activate(campaign=secret, actor=Actor())  # the version holds the label
    open_campaign = live_campaign(name="Receipts", create_new_profiles=True)
    trigger(
        api_client(EXECUTIONS_TRIGGER, labels=["vip"]),
        django_capture_on_commit_callbacks,
        secret,
        [recipient("vip@example.com")],
        request_id="vip-1",
    )
    trigger(
        api_client(EXECUTIONS_TRIGGER, name="open"),
        django_capture_on_commit_callbacks,
        open_campaign,
        [recipient("ana@example.com")],
        request_id="open-1",
    )
    viewer = staff_with("view_message", "view_execution")
    client.force_login(viewer)
    hidden = Message.objects.get(address="vip@example.com")

    listed = client.get(MESSAGES)
    executions = client.get(EXECUTIONS)
    page = client.get(reverse("admin:delivery_message_change", args=[hidden.pk]))

    assert [m.address for m in listed.context["cl"].result_list] == ["ana@example.com"]
    assert [e.request_id for e in executions.context["cl"].result_list] == ["open-1"]
    assert page.status_code == 302  # Django's "does not exist" redirect to the index
    assert "VIP offers" not in listed.content.decode()


def test_the_message_list_costs_the_same_queries_for_one_row_as_for_a_hundred(
    admin_client: Client, api_client, live_campaign, published, django_capture_on_commit_callbacks
) -> None:
    campaign = live_campaign(create_new_profiles=True)
    client = api_client(EXECUTIONS_TRIGGER)
    trigger(
        client,
        django_capture_on_commit_callbacks,
        campaign,
        [recipient("first@example.com")],
        request_id="one",
    )
    admin_client.get(MESSAGES)  # warm the session and the content types
    with CaptureQueriesContext(connection) as one_row:
        response = admin_client.get(MESSAGES)
    assert len(response.context["cl"].result_list) == 1

    trigger(
        client,
        django_capture_on_commit_callbacks,
        campaign,
        [recipient(f"r{n}@example.com") for n in range(99)],
        request_id="many",
    )
    with CaptureQueriesContext(connection) as hundred_rows:
        response = admin_client.get(MESSAGES)

    assert len(response.context["cl"].result_list) == 100
    assert len(hundred_rows.captured_queries) == len(one_row.captured_queries)
    assert len(one_row.captured_queries) <= 8
