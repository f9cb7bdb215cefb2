"""Fault tests: a 202 is a promise, also when a worker, the broker or everything dies.

"Nothing lost" means: every accepted message was received by the SMTP server
exactly once (counted by its ``X-Clarion-Message-Id``: none twice, none
missing) and is recorded ``sent``, or is recorded ``failed`` with its reason.

The processes are the real ones (gunicorn, Celery worker and beat, or
``manage.py run_clarion``), with the short timings of ``stack.SHORT_TIMINGS``:
the sweeper (run by beat every second) re-enqueues a lost publish after 3 s and
gives back a dead worker's claims after a 10 s lease. Kills land while the
worker waits on the SMTP server (``SmtpSink.hold_after``), never in the instant
between the server's ``250`` and the worker's commit, which no sender can close.
"""

from __future__ import annotations

import signal
from collections import Counter
from statistics import median

import pytest

from audiences.models import Suppression
from delivery.models import Execution, Message, MessageAttempt
from tests.integration.conftest import ClarionFactory
from tests.integration.delivery_data import (
    Api,
    live_campaign,
    opted_in_audience,
    recipient,
    statuses,
    trigger_secret,
    wait_until_final,
)
from tests.integration.smtp_sink import SmtpSink
from tests.integration.stack import Clarion, RedisServer

pytestmark = pytest.mark.worker

AUDIENCE_SIZE = 400
BURST = 50
MEMBERS = 10
FINISH_SECONDS = 60  # a 10 s lease, a worker's restart and the sends, on a busy machine


def assert_finished(execution_ids: list[str], running: Clarion) -> None:
    """Every execution ends within FINISH_SECONDS (else: where its messages are, and logs)."""
    assert wait_until_final(execution_ids, FINISH_SECONDS), (
        statuses(execution_id__in=execution_ids),
        running.outputs(),
    )


def assert_nothing_lost(sink: SmtpSink, execution_ids: list[str], expected: int) -> None:
    """Every message of the executions arrived once and is ``sent``; nothing else arrived."""
    messages = Message.objects.filter(execution_id__in=execution_ids)
    assert messages.count() == expected
    arrived = sink.clarion_ids()
    assert {pk: n for pk, n in arrived.items() if n > 1} == {}  # no duplicate
    sent = {str(pk) for pk in messages.filter(status="sent").values_list("pk", flat=True)}
    assert set(arrived) == sent  # none missing, none unknown
    assert statuses(execution_id__in=execution_ids) == Counter(sent=expected)
    assert Execution.objects.filter(pk__in=execution_ids, status="succeeded").count() == len(
        execution_ids
    )


def test_a_worker_killed_in_the_middle_of_an_audience_send_loses_nothing(
    clarion: ClarionFactory, smtp_sink: SmtpSink
) -> None:
    # Given a marketing campaign to 400 opted-in profiles, and web, worker and beat
    audience = opted_in_audience(AUDIENCE_SIZE)
    campaign = live_campaign(category="marketing", audience=audience)
    running = clarion()
    worker = running.start("web", "worker", "beat")["worker"]
    api = Api(running.base_url, trigger_secret())
    # and an SMTP server that stops answering after 150 messages
    smtp_sink.hold_after(150)

    # When the audience call is accepted, and the worker is killed (SIGKILL, its pool
    # processes too) while both its processes wait on the server, mid-send
    response = api.audience(campaign)
    assert response.status_code == 202, response.text
    execution_id = response.json()["executionId"]
    assert smtp_sink.wait_until(lambda sink: sink.held == 2, FINISH_SECONDS), running.outputs()
    worker.kill()
    smtp_sink.release()
    assert smtp_sink.wait_until(lambda sink: sink.held == 0, 10)
    assert smtp_sink.dropped >= 2  # what the killed processes were handing over

    # Then at that moment every message the server took is recorded sent, and the rest
    # are all written, queued or held by the dead worker's claims
    accepted_before = smtp_sink.count()
    assert accepted_before >= 150
    assert Execution.objects.get(pk=execution_id).fanout_done
    before = statuses(execution_id=execution_id)
    assert before["sent"] == accepted_before
    assert before["sending"] > 0
    assert before["queued"] + before["sending"] == AUDIENCE_SIZE - accepted_before

    # And once a worker runs again, beat's sweeper gives the claims back after their
    # lease and re-enqueues the tasks the dead worker took: everything is sent, once
    running.start("worker")
    assert_finished([execution_id], running)
    assert_nothing_lost(smtp_sink, [execution_id], AUDIENCE_SIZE)


def test_a_worker_stopped_gracefully_finishes_its_batches_and_leaves_the_rest_queued(
    clarion: ClarionFactory, smtp_sink: SmtpSink
) -> None:
    # Given a marketing campaign to 600 profiles (three send tasks of 200), web and
    # worker but no beat (no sweeper makes good what the stop would lose), and a server
    # holding after 50
    campaign = live_campaign(category="marketing", audience=opted_in_audience(600))
    running = clarion()
    worker = running.start("web", "worker")["worker"]
    api = Api(running.base_url, trigger_secret())
    smtp_sink.hold_after(50)

    # When the worker is asked to stop (SIGTERM, as run_clarion or systemd asks it)
    # while both its processes are in the middle of a batch
    response = api.audience(campaign)
    assert response.status_code == 202, response.text
    execution_id = response.json()["executionId"]
    assert smtp_sink.wait_until(lambda sink: sink.held == 2, FINISH_SECONDS), running.outputs()
    worker.process.send_signal(signal.SIGTERM)
    smtp_sink.release()

    # Then it finishes the batches it had claimed, and exits cleanly, nothing claimed
    assert worker.process.wait(30) == 0, worker.output()
    assert "Warm shutdown" in worker.output()
    before = statuses(execution_id=execution_id)
    assert before["sending"] == 0
    assert before["sent"] == smtp_sink.count()
    assert before["sent"] + before["queued"] == 600
    assert smtp_sink.dropped == 0

    # And a new worker sends the rest from the broker: all sent, once
    running.start("worker")
    assert_finished([execution_id], running)
    assert_nothing_lost(smtp_sink, [execution_id], 600)


def test_web_worker_and_beat_killed_together_then_make_run_again_loses_nothing(
    clarion: ClarionFactory, smtp_sink: SmtpSink
) -> None:
    # Given `make run` (manage.py run_clarion: gunicorn, a worker and beat under the
    # supervisor), and an SMTP server that stops answering after 10 messages
    campaign = live_campaign(create_new_profiles=True)
    running = clarion()
    supervisor = running.start_run_clarion()
    api = Api(running.base_url, trigger_secret())
    smtp_sink.hold_after(10)

    # When a burst of 50 unitary calls is accepted
    responses = api.burst(campaign, range(BURST))
    assert [r.status_code for r in responses] == [202] * BURST, responses[-1].text
    execution_ids = [r.json()["executionId"] for r in responses]
    # and right after, every process of it is killed with SIGKILL at once, the worker's
    # two processes waiting on the SMTP server (web, worker, beat, supervisor, guard)
    assert smtp_sink.wait_until(lambda sink: sink.held == 2, FINISH_SECONDS), running.outputs()
    supervisor.kill()
    smtp_sink.release()
    assert smtp_sink.wait_until(lambda sink: sink.held == 0, 10)
    assert smtp_sink.dropped >= 2

    # Then what the server took is recorded sent, and the rest waits, queued or claimed
    accepted_before = smtp_sink.count()
    before = statuses(execution_id__in=execution_ids)
    assert before["sent"] == accepted_before
    assert before["queued"] + before["sending"] == BURST - accepted_before

    # And once `make run` runs again on the same database and broker, every message is
    # sent once: from the broker, or re-enqueued by the sweeper (lost publishes, tasks
    # the dead worker held, and its claims once their lease is over)
    running.start_run_clarion()
    assert_finished(execution_ids, running)
    assert_nothing_lost(smtp_sink, execution_ids, BURST)


def test_the_broker_stopped_during_a_burst_then_restarted_loses_nothing(
    redis_server: RedisServer, clarion: ClarionFactory, smtp_sink: SmtpSink
) -> None:
    # Given a transactional campaign and a marketing one (10 opted-in profiles), and
    # web, worker and beat on a Redis broker of this test's own
    campaign = live_campaign(create_new_profiles=True)
    marketing = live_campaign(category="marketing", audience=opted_in_audience(MEMBERS))
    running = clarion(broker_url=redis_server.url)
    running.start("web", "worker", "beat")
    api = Api(running.base_url, trigger_secret())

    # When a burst of calls is accepted, and Redis stops in the middle of it (without
    # persistence: every queued task is gone) and starts again, empty
    up = api.burst(campaign, range(20))
    redis_server.stop()
    down = [api.unitary(campaign, [recipient(n)]) for n in range(20, 40)]  # one at a time
    down_audience = [api.audience(marketing) for _ in range(3)]
    redis_server.start()
    back = api.burst(campaign, range(40, BURST))

    # Then every call was accepted, also while the broker was down, and without waiting
    # on it: a publish that waited would add its retries to every call (0.9 s to a
    # unitary call, at least 0.4 s to an audience call's fan-out)
    responses = up + down + down_audience + back
    assert [r.status_code for r in responses] == [202] * len(responses)
    seconds = [round(r.elapsed.total_seconds(), 3) for r in down + down_audience]
    assert median(seconds[:20]) < 0.3, seconds
    assert median(seconds[20:]) < 0.3, seconds

    # And once the broker is back, the sweeper re-enqueues the lost sends and restarts
    # the fan-outs whose publish was lost: every message is sent, once
    execution_ids = [r.json()["executionId"] for r in responses]
    assert_finished(execution_ids, running)
    assert_nothing_lost(smtp_sink, execution_ids, BURST + 3 * MEMBERS)


def test_smtp_451_then_250_is_retried_and_sent(
    clarion: ClarionFactory, smtp_sink: SmtpSink
) -> None:
    # Given a server that greylists ana (451 to her first RCPT, 250 after)
    campaign = live_campaign(create_new_profiles=True)
    smtp_sink.script("ana@example.com", "451 4.7.1 Greylisted, try again later")
    running = clarion()
    running.start("web", "worker")
    api = Api(running.base_url, trigger_secret())

    # When a call sends her an email
    response = api.unitary(campaign, [recipient(1, userId="ana@example.com")])
    assert response.status_code == 202, response.text

    # Then it is retried (after about CLARION_SEND_RETRY_BASE_SECONDS) and sent, once
    execution_id = response.json()["executionId"]
    assert_finished([execution_id], running)
    message = Message.objects.get(execution_id=execution_id)
    assert message.status == "sent"
    assert message.attempts == 2
    attempts = list(message.attempt_log.values_list("number", "outcome", "code"))
    assert attempts == [(1, "retry", "smtp_451"), (2, "sent", "")]
    assert smtp_sink.replies_to("ana@example.com") == ["451", "250"]
    assert smtp_sink.clarion_ids() == Counter({str(message.pk): 1})
    assert Suppression.objects.count() == 0


def test_smtp_550_fails_at_once_and_suppresses_the_address(
    clarion: ClarionFactory, smtp_sink: SmtpSink
) -> None:
    # Given a server on which ana's mailbox does not exist
    campaign = live_campaign(create_new_profiles=True)
    smtp_sink.script("ana@example.com", "550 5.1.1 No such user here")
    running = clarion()
    running.start("web", "worker")
    api = Api(running.base_url, trigger_secret())

    # When a call sends her an email
    response = api.unitary(campaign, [recipient(1, userId="ana@example.com")])
    assert response.status_code == 202, response.text

    # Then it fails after one attempt with the server's reason, and nothing is received
    execution_id = response.json()["executionId"]
    assert_finished([execution_id], running)
    message = Message.objects.get(execution_id=execution_id)
    assert message.status == "failed"
    assert message.reason == "smtp_550"
    assert message.reason_detail == "550 5.1.1 No such user here"
    assert message.attempts == 1
    assert list(message.attempt_log.values_list("number", "outcome", "code")) == [
        (1, "failed", "smtp_550")
    ]
    assert Execution.objects.get(pk=execution_id).status == "failed"
    assert smtp_sink.replies_to("ana@example.com") == ["550"]
    assert smtp_sink.count() == 0
    # and her address is on the suppression list, as a hard bounce
    suppression = Suppression.objects.get()
    assert (suppression.channel, suppression.address, suppression.reason) == (
        "email",
        "ana@example.com",
        "hard_bounce",
    )

    # And a later call to her is excluded without the server being asked again
    again = api.unitary(campaign, [recipient(2, userId="ana@example.com")])
    assert again.status_code == 202, again.text
    assert_finished([again.json()["executionId"]], running)
    later = Message.objects.get(execution_id=again.json()["executionId"])
    assert (later.status, later.reason, later.attempts) == ("excluded", "suppressed", 0)
    assert MessageAttempt.objects.filter(message=later).count() == 0
    assert smtp_sink.replies_to("ana@example.com") == ["550"]
    assert smtp_sink.count() == 0
