"""message_send_batch: claiming, and rendering from the version live at acceptance."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import CampaignContent, CampaignVersion
from campaigns.services.lifecycle import campaign_open_draft_version, campaign_publish
from core.actors import Actor
from delivery.channels.base import SendResult
from delivery.models import Execution, Message, MessageAttempt
from delivery.services.sending import message_send_batch
from tests.delivery.sending_helpers import (
    OneByOneTransport,
    accept_unitary,
    ids,
    person,
    recipient,
    use_fake_transport,
)

pytestmark = pytest.mark.django_db

LOCALIZED = {
    "en": {"subject": "Hello", "html": "<p>Hello</p>", "text": "Hello"},
    "pt": {"subject": "Olá", "html": "<p>Olá</p>", "text": "Olá"},
    "fr": {"subject": "Bonjour", "html": "<p>Bonjour</p>", "text": "Bonjour"},
}


# --- Claiming ---------------------------------------------------------------------


def test_a_batch_run_twice_sends_once(live_campaign, monkeypatch) -> None:
    # given two accepted messages
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, recipient("ana@example.com"), recipient("ben@example.com"))

    # when the same send task runs twice
    first = message_send_batch(message_ids=ids(messages))
    second = message_send_batch(message_ids=ids(messages))

    # then the first sent both and the second claimed nothing
    assert (first.sent, first.failed, first.excluded, first.retry) == (2, 0, 0, {})
    assert (second.sent, second.failed, second.excluded, second.retry) == (0, 0, 0, {})
    assert transport.addresses() == ["ana@example.com", "ben@example.com"]
    assert len(transport.calls) == 1
    assert [(m.status, m.attempts, m.claim_token) for m in _fresh(messages)] == [
        ("sent", 1, None),
        ("sent", 1, None),
    ]
    assert MessageAttempt.objects.count() == 2


def test_a_message_already_sending_is_not_claimed(live_campaign, monkeypatch) -> None:
    # given a message another worker holds
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))
    token = uuid.uuid4()
    Message.objects.filter(pk=message.pk).update(status="sending", claim_token=token)

    # when a second task asks for it
    outcome = message_send_batch(message_ids=[str(message.pk)])

    # then nothing was sent, and the other worker's claim is untouched
    assert (outcome.sent, outcome.failed, outcome.excluded) == (0, 0, 0)
    assert transport.calls == []
    message.refresh_from_db()
    assert (message.status, message.claim_token, message.attempts) == ("sending", token, 0)
    assert MessageAttempt.objects.count() == 0


def test_only_the_queued_messages_of_a_batch_are_claimed(live_campaign, monkeypatch) -> None:
    # given three messages: one sent already, one held by another worker, one queued
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    sent, held, queued = accept_unitary(
        campaign, recipient("a@example.com"), recipient("b@example.com"), recipient("c@example.com")
    )
    message_send_batch(message_ids=[str(sent.pk)])
    Message.objects.filter(pk=held.pk).update(status="sending", claim_token=uuid.uuid4())

    # when a task for all three runs
    outcome = message_send_batch(message_ids=ids([sent, held, queued]))

    # then only the queued one went, once
    assert outcome.sent == 1
    assert transport.addresses() == ["a@example.com", "c@example.com"]
    assert [m.attempts for m in _fresh([sent, held, queued])] == [1, 0, 1]


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_batch_send_each_message_once(live_campaign, monkeypatch):
    # given 20 accepted messages (committed: each thread has its own connection)
    transport = use_fake_transport(monkeypatch)
    lock = threading.Lock()
    send_many = transport.send_many

    def locked_send_many(outgoing: Any) -> Any:
        with lock:
            return send_many(outgoing)

    monkeypatch.setattr(transport, "send_many", locked_send_many)
    campaign = live_campaign(create_new_profiles=True)
    messages = accept_unitary(campaign, *(recipient(f"r{n}@example.com") for n in range(20)))
    start = threading.Barrier(2)
    outcomes: list[int] = []

    def worker() -> None:
        start.wait()
        try:
            outcomes.append(message_send_batch(message_ids=ids(messages)).sent)
        finally:
            connection.close()

    # when two workers run the same task at the same moment
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then each message went exactly once
    assert sorted(outcomes) in ([0, 20], [20, 0])
    assert sorted(transport.addresses()) == sorted(f"r{n}@example.com" for n in range(20))
    assert Message.objects.filter(status="sent", attempts=1).count() == 20
    assert MessageAttempt.objects.count() == 20


def test_a_batch_costs_no_more_queries_for_50_messages_than_for_1(
    live_campaign, monkeypatch
) -> None:
    # given a batch of 1 and a batch of 50, all sendable
    use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    one = accept_unitary(campaign, recipient("solo@example.com"))
    fifty = accept_unitary(campaign, *(recipient(f"r{n}@example.com") for n in range(50)))

    # when each is sent
    with CaptureQueriesContext(connection) as small:
        message_send_batch(message_ids=ids(one))
    with CaptureQueriesContext(connection) as large:
        message_send_batch(message_ids=ids(fifty))

    # then the cost does not grow with the batch. On PostgreSQL: the claim with its
    # executions started (one statement), the read back with the profiles and the
    # executions' context, suppressions; in one savepoint the outcomes with their
    # provider ids and tracked links (one UPDATE, whose count says every message was
    # still held: no locking read first), the attempts and the report counters; the
    # executions finished (one statement). 9 (was 13: the claim, the start, the
    # executions' context and their finishing took four more)
    postgresql = connection.vendor == "postgresql"
    assert len(large.captured_queries) == (9 if postgresql else 12)
    # one message's outcome is one statement on PostgreSQL (an email's: see
    # test_recording_statement.py), the same five as fifty's elsewhere
    assert len(small.captured_queries) == (5 if postgresql else 12)
    assert Message.objects.filter(status="sent").count() == 51


def test_a_batch_of_unitary_emails_of_50_executions_costs_one_query_per_email(
    live_campaign, monkeypatch
) -> None:
    # given 50 unitary calls of one recipient each (50 executions), merged into one
    # send task as the web process merges them under load, sent as an email is: each
    # outcome reported (and recorded) as its server answers
    use_fake_transport(monkeypatch, OneByOneTransport())
    campaign = live_campaign(create_new_profiles=True)
    calls = [accept_unitary(campaign, recipient(f"u{n}@example.com")) for n in range(50)]
    batch = [message for call in calls for message in call]

    # when the batch is sent
    with CaptureQueriesContext(connection) as captured:
        outcome = message_send_batch(message_ids=ids(batch))

    # then nothing is per execution: on PostgreSQL the claim with the executions
    # started, the read back with the profiles and the executions' context,
    # suppressions, one statement per email's outcome, and the executions finished
    # (54: the start, the contexts and the finishing were five more)
    assert outcome.sent == 50
    if connection.vendor == "postgresql":
        assert len(captured.captured_queries) == 4 + 50
    executions = Execution.objects.filter(pk__in={m.execution_id for m in batch})
    assert sorted(executions.values_list("status", flat=True)) == ["succeeded"] * 50
    assert all(e.counts["sent"] == 1 and e.counts["failed"] == 0 for e in executions)
    assert all(e.started_at is not None and e.finished_at is not None for e in executions)


def test_a_message_taken_back_meanwhile_is_left_to_its_new_sender(
    live_campaign, monkeypatch
) -> None:
    # given a batch of two, and while the provider has them, the sweeper gives one
    # back and another worker claims it (this worker had stalled past the lease)
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    mine, taken = accept_unitary(campaign, recipient("a@example.com"), recipient("b@example.com"))
    other_worker = uuid.uuid4()
    send_many = transport.send_many

    def stalled_send_many(outgoing: Any) -> Any:
        Message.objects.filter(pk=taken.pk).update(claim_token=other_worker)
        return send_many(outgoing)

    monkeypatch.setattr(transport, "send_many", stalled_send_many)

    # when this worker records its outcomes
    message_send_batch(message_ids=ids([mine, taken]))

    # then only its own message is written; the other stays with its new sender
    mine, taken = _fresh([mine, taken])
    assert (mine.status, mine.claim_token, mine.provider_message_id) == ("sent", None, "fake-1")
    assert (taken.status, taken.claim_token, taken.provider_message_id) == (
        "sending",
        other_worker,
        "",
    )


# --- Rendering --------------------------------------------------------------------


def test_the_version_live_at_acceptance_is_sent_after_a_new_one_is_published(
    live_campaign, monkeypatch
) -> None:
    # given a message accepted under version 1
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(
        create_new_profiles=True,
        content={"en": {"subject": "Old subject", "html": "<p>old</p>", "text": "old"}},
    )
    [accepted_before] = accept_unitary(campaign, recipient("ana@example.com"))

    # when version 2 is published with new content, and a second call is accepted
    campaign_open_draft_version(campaign=campaign, actor=Actor())
    CampaignContent.objects.filter(campaign=campaign, locale="en").update(
        subject="New subject", html="<p>new</p>", text="new"
    )
    campaign_publish(campaign=campaign, actor=Actor())
    [accepted_after] = accept_unitary(campaign, recipient("ben@example.com"))
    message_send_batch(message_ids=ids([accepted_before, accepted_after]))

    # then each went with the version live when it was accepted
    subjects = {o.address: (o.parts["subject"], o.parts["text"]) for o in transport.sent}
    assert subjects == {
        "ana@example.com": ("Old subject", "old"),
        "ben@example.com": ("New subject", "new"),
    }
    numbers = {m.address: m.version.number for m in Message.objects.select_related("version")}
    assert numbers == {"ana@example.com": 1, "ben@example.com": 2}


@pytest.mark.parametrize(
    ("profile_locale", "expected"),
    [
        ("pt-BR", ("pt", "Olá")),  # pt-BR -> pt
        ("fr-CA", ("fr", "Bonjour")),
        ("de-DE", ("en", "Hello")),  # de-DE -> de -> default
        ("", ("en", "Hello")),
    ],
)
def test_the_locale_falls_back_from_the_profile_locale(
    live_campaign, monkeypatch, profile_locale: str, expected: tuple[str, str]
) -> None:
    # given a stored profile with a locale, and content in en (default), pt and fr
    transport = use_fake_transport(monkeypatch)
    person("ana@example.com", locale=profile_locale)
    campaign = live_campaign(content=LOCALIZED)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))

    # when it is sent
    message_send_batch(message_ids=[str(message.pk)])

    # then the fallback chain chose the content, and the message records the locale
    message.refresh_from_db()
    assert (message.locale, transport.sent[0].parts["subject"]) == expected


def test_the_campaign_locale_attribute_wins_and_the_call_profile_can_change_it(
    live_campaign, monkeypatch
) -> None:
    # given a campaign reading the locale from preferences.language, and two profiles
    # whose own locale (fr) differs from their stored preference (pt-BR)
    transport = use_fake_transport(monkeypatch)
    for email in ("ana@example.com", "ben@example.com"):
        person(email, locale="fr", attributes={"preferences": {"language": "pt-BR"}})
    person("cy@example.com", locale="fr", attributes={"preferences": {}})
    campaign = live_campaign(content=LOCALIZED, locale_attribute="preferences.language")

    # when ana is sent as stored, ben with the call's profile saying en-GB, and cy
    # (no preference) falls back to the profile's locale
    messages = accept_unitary(
        campaign,
        recipient("ana@example.com"),
        recipient("ben@example.com", profile={"preferences": {"language": "en-GB"}}),
        recipient("cy@example.com"),
    )
    message_send_batch(message_ids=ids(messages))

    # then
    chosen = {o.address: o.parts["subject"] for o in transport.sent}
    assert chosen == {
        "ana@example.com": "Olá",
        "ben@example.com": "Hello",
        "cy@example.com": "Bonjour",
    }
    assert [m.locale for m in _fresh(messages)] == ["pt", "en", "fr"]


def test_profile_and_context_are_deep_merged_and_the_recipient_wins(
    live_campaign, monkeypatch
) -> None:
    # given a stored profile, and a call with a shared context and recipient data
    transport = use_fake_transport(monkeypatch)
    person(
        "ana@example.com",
        attributes={
            "person": {"name": {"firstName": "Ana", "lastName": "Silva"}},
            "tier": "gold",
        },
    )
    campaign = live_campaign(
        track_opens=False,  # the parts exactly as rendered (tests/delivery/test_tracking_*)
        content={
            "en": {
                "subject": "{{ profile.person.name.firstName }} {{ profile.person.name.lastName }}",
                "html": "<p>{{ profile.tier }}</p>",
                "text": "{{ context.product.name }}/{{ context.product.color }}/{{ context.shop }}",
            }
        },
    )
    [message] = accept_unitary(
        campaign,
        recipient(
            "ana@example.com",
            profile={"person": {"name": {"firstName": "Anita"}}},
            context={"product": {"name": "Boots"}},
        ),
        context={"product": {"name": "Jackets", "color": "red"}, "shop": "Lisbon"},
    )

    # when it is sent
    message_send_batch(message_ids=[str(message.pk)])

    # then nested values merged, the call's profile and the recipient's context won
    assert dict(transport.sent[0].parts) == {
        "subject": "Anita Silva",
        "preheader": "",
        "html": "<p>gold</p>",
        "text": "Boots/red/Lisbon",
    }
    # and the stored profile was not changed by the call's profile
    message.refresh_from_db()
    assert message.profile is not None
    assert message.profile.attributes["person"]["name"]["firstName"] == "Ana"


def test_a_template_error_at_runtime_fails_only_that_message(live_campaign, monkeypatch) -> None:
    # given content dividing by a context value, and a recipient sending zero
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(
        create_new_profiles=True,
        content={
            "en": {
                "subject": "Share {{ 100 | divided_by: context.parts }}",
                "html": "<p>x</p>",
                "text": "x",
            }
        },
    )
    good, bad = accept_unitary(
        campaign,
        recipient("ana@example.com", context={"parts": 4}),
        recipient("ben@example.com", context={"parts": 0}),
    )

    # when the batch is sent
    outcome = message_send_batch(message_ids=ids([good, bad]))

    # then the good one went, the bad one failed with the reason and the template's words
    assert (outcome.sent, outcome.failed) == (1, 1)
    assert [(o.address, o.parts["subject"]) for o in transport.sent] == [
        ("ana@example.com", "Share 25")
    ]
    good, bad = _fresh([good, bad])
    assert (good.status, good.reason) == ("sent", "")
    assert (bad.status, bad.reason, bad.reason_detail, bad.attempts) == (
        "failed",
        "render_failed",
        "divided_by: can't divide by 0 (line 1, column 16)",
        1,
    )
    attempt = MessageAttempt.objects.get(message=bad)
    assert (attempt.number, attempt.outcome, attempt.code, attempt.detail) == (
        1,
        "failed",
        "render_failed",
        "divided_by: can't divide by 0 (line 1, column 16)",
    )


def test_a_version_with_no_content_for_the_locale_nor_a_default_fails_the_message(
    live_campaign, monkeypatch
) -> None:
    # given a version (frozen by hand: review refuses it) with only French content
    transport = use_fake_transport(monkeypatch)
    person("ana@example.com", locale="de")
    person("ben@example.com", locale="fr")
    campaign = live_campaign(content=LOCALIZED)
    live = campaign.live_version
    snapshot = dict(live.snapshot, content={"fr": LOCALIZED["fr"]})
    french_only = CampaignVersion.objects.create(campaign=campaign, number=9, snapshot=snapshot)
    messages = accept_unitary(campaign, recipient("ana@example.com"), recipient("ben@example.com"))
    Message.objects.filter(pk__in=ids(messages)).update(version=french_only)

    # when they are sent
    outcome = message_send_batch(message_ids=ids(messages))

    # then the German reader's message failed with the reason; the French one went
    assert (outcome.sent, outcome.failed) == (1, 1)
    assert transport.addresses() == ["ben@example.com"]
    german, french = _fresh(messages)
    assert (german.status, german.reason, german.reason_detail) == (
        "failed",
        "render_failed",
        "No content matches the locale de, and the default en has none.",
    )
    assert (french.status, french.locale) == ("sent", "fr")


def test_empty_variables_are_recorded_as_warnings_and_the_message_goes(
    live_campaign, monkeypatch
) -> None:
    # given the factory content (first name, product name) and a recipient without them
    transport = use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(campaign, recipient("ana@example.com"))

    # when it is sent
    message_send_batch(message_ids=[str(message.pk)])

    # then it went, and each empty variable is a warning with its part
    message.refresh_from_db()
    assert message.status == "sent"
    assert transport.sent[0].parts["subject"] == "Thanks "
    assert message.warnings == [
        {
            "field": "/content/en/subject",
            "variable": "profile.person.name.firstName",
            "code": "empty_variable",
        },
        {"field": "/content/en/html", "variable": "context.product.name", "code": "empty_variable"},
        {"field": "/content/en/text", "variable": "context.product.name", "code": "empty_variable"},
    ]


def test_a_message_with_every_variable_filled_has_no_warning(live_campaign, monkeypatch) -> None:
    use_fake_transport(monkeypatch)
    campaign = live_campaign(create_new_profiles=True)
    [message] = accept_unitary(
        campaign,
        recipient(
            "ana@example.com",
            profile={"person": {"name": {"firstName": "Ana"}}},
            context={"product": {"name": "Jackets"}},
        ),
    )

    message_send_batch(message_ids=[str(message.pk)])

    message.refresh_from_db()
    assert (message.status, message.warnings) == ("sent", [])


def _fresh(messages: list[Message]) -> list[Message]:
    found = Message.objects.in_bulk([m.pk for m in messages])
    return [found[m.pk] for m in messages]


def test_a_provider_id_longer_than_its_column_is_cut_not_fatal(monkeypatch, live_campaign) -> None:
    """A Web Push Location URL can be longer than 255 characters; the send is recorded."""
    fake = use_fake_transport(monkeypatch)
    long_id = "https://push.example/" + "x" * 400
    monkeypatch.setattr(
        fake, "send_many", lambda outgoing: [SendResult(o.message_id, long_id) for o in outgoing]
    )
    person("ana@example.com")
    [message] = accept_unitary(live_campaign(), recipient("ana@example.com"))

    outcome = message_send_batch(message_ids=[str(message.pk)])

    message.refresh_from_db()
    assert (outcome.sent, message.status) == (1, "sent")
    assert message.provider_message_id == long_id[:255]
    assert message.attempt_log.get().provider_message_id == long_id[:255]
