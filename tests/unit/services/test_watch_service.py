"""WatchService on fakes: each delivery heartbeats, hops, looks once, sends the job on or answers its task."""

from __future__ import annotations

import json
import logging

import pytest

from i2v.domain.gmi_answers import GmiRequest, GmiRetryableError
from i2v.domain.polling import PollOutcome
from i2v.domain.workflow import CaughtError, PollResult, PollState, WatchMessage
from i2v.services.watch import WatchService
from support.fakes import Fakes, FakeTaskTokens, FakeWatchQueue
from support.poll_service import FakeClock, first_state, poll_service

JOB_ID = "c" * 32
SUBMITTED_AT = 1_800_000_000.0
DEADLINE = 1800
TOKEN = "AQCEAAAAKgAAAA-secret-task-token"


def _state(next_wait: int = 20, **poll: object) -> PollState:
    return first_state(JOB_ID, SUBMITTED_AT, DEADLINE, next_wait, **poll)


def _message(state: PollState, due_at: float | None = None) -> WatchMessage:
    return WatchMessage.model_validate({"task_token": TOKEN, "state": state.model_dump(), "due_at": due_at})


def _watcher(fakes: Fakes, elapsed: float) -> tuple[WatchService, FakeWatchQueue, FakeTaskTokens, FakeClock]:
    poller, clock = poll_service(fakes, JOB_ID, SUBMITTED_AT + elapsed)
    queue, tokens = FakeWatchQueue(), FakeTaskTokens()
    return WatchService(poller=poller, queue=queue, tokens=tokens, clock=clock), queue, tokens, clock


def _answer(fakes: Fakes, status: str) -> None:
    fakes.gmi.get_answers.append(GmiRequest.model_validate({"request_id": "req-1", "status": status}))


def test_a_waiting_job_is_sent_on_delayed_by_the_next_wait_and_nothing_is_slept(fakes: Fakes) -> None:
    _answer(fakes, "processing")
    watcher, queue, tokens, clock = _watcher(fakes, 20)

    verdict = watcher.handle(_message(_state()), sent_at=SUBMITTED_AT)

    assert verdict == PollOutcome.WAITING
    ((sent, delay),) = queue.sent
    assert sent.state.poll.poll_count == 1
    assert sent.state.poll.gmi_status == "processing"
    assert delay == sent.state.poll.next_wait_seconds >= 1
    assert sent.due_at == clock.now + delay
    assert sent.task_token.get_secret_value() == TOKEN
    assert clock.slept == []
    assert tokens.heartbeats == [TOKEN]
    assert tokens.answers == {}


@pytest.mark.parametrize(("status", "outcome"), [("success", PollOutcome.SUCCEEDED), ("failed", PollOutcome.FAILED)])
def test_a_finished_job_answers_its_task_with_the_verdict(fakes: Fakes, status: str, outcome: PollOutcome) -> None:
    _answer(fakes, status)
    watcher, queue, tokens, _ = _watcher(fakes, 20)

    assert watcher.handle(_message(_state()), sent_at=SUBMITTED_AT) == outcome

    assert queue.sent == []
    answered = PollResult.model_validate(tokens.answers[TOKEN])
    assert (answered.outcome, answered.poll_count) == (outcome, 1)


def test_the_state_machines_own_message_is_due_its_sent_time_plus_the_wait(fakes: Fakes) -> None:
    """Delivered early (clock skew, a redelivery): not looked at, sent on for what is left, no GET."""
    watcher, queue, _, _ = _watcher(fakes, 5)

    assert watcher.handle(_message(_state(next_wait=20)), sent_at=SUBMITTED_AT) is None

    ((sent, delay),) = queue.sent
    assert (delay, sent.due_at) == (15, SUBMITTED_AT + 20)
    assert fakes.gmi.looked_up == []


def test_a_wait_longer_than_sqs_can_delay_hops_in_900_s_steps(fakes: Fakes) -> None:
    watcher, queue, _, clock = _watcher(fakes, 0)
    state = _state(next_wait=1500)
    assert state.poll.queue_delay_seconds == 900  # what the Watch state delays its message by

    watcher.handle(_message(state), sent_at=SUBMITTED_AT - 900)  # delivered after SQS's 900 s

    ((sent, delay),) = queue.sent
    assert (delay, sent.due_at) == (600, SUBMITTED_AT + 600)
    assert fakes.gmi.looked_up == []
    assert clock.slept == []


def test_a_look_due_within_the_tolerance_is_made_now(fakes: Fakes) -> None:
    _answer(fakes, "processing")
    watcher, _, _, _ = _watcher(fakes, 19.5)
    watcher.handle(_message(_state(next_wait=20)), sent_at=SUBMITTED_AT)
    assert fakes.gmi.looked_up == ["req-1"]


def test_a_closed_task_stops_its_stale_copy_without_a_look(fakes: Fakes) -> None:
    watcher, queue, tokens, _ = _watcher(fakes, 20)
    tokens.closed.add(TOKEN)

    assert watcher.handle(_message(_state()), sent_at=SUBMITTED_AT) is None

    assert queue.sent == []
    assert fakes.gmi.looked_up == []


def test_a_duplicate_delivery_of_the_last_look_answers_once(fakes: Fakes) -> None:
    """SQS delivers at least once: the copy's answer finds the task closed, and says so."""
    _answer(fakes, "success")
    _answer(fakes, "success")
    watcher, _, tokens, _ = _watcher(fakes, 20)
    message = _message(_state())
    assert watcher.handle(message, sent_at=SUBMITTED_AT) == PollOutcome.SUCCEEDED
    tokens.heartbeat = lambda token: True  # type: ignore[method-assign]  # the copy heartbeat raced the answer
    assert watcher.handle(message, sent_at=SUBMITTED_AT) is None
    assert list(tokens.answers) == [TOKEN]


def test_a_gmi_error_backs_off_through_the_queue(fakes: Fakes) -> None:
    fakes.gmi.get_answers.append(GmiRetryableError("GMI answered 503"))
    watcher, queue, tokens, _ = _watcher(fakes, 20)

    assert watcher.handle(_message(_state()), sent_at=SUBMITTED_AT) == PollOutcome.WAITING

    ((sent, delay),) = queue.sent
    assert (sent.state.poll.consecutive_errors, delay) == (1, 5)
    assert tokens.answers == {}


def test_at_the_deadline_the_task_is_answered_timed_out(fakes: Fakes) -> None:
    _answer(fakes, "processing")
    watcher, queue, tokens, _ = _watcher(fakes, DEADLINE)
    assert watcher.handle(_message(_state()), sent_at=SUBMITTED_AT + DEADLINE - 20) == PollOutcome.TIMED_OUT
    assert queue.sent == []
    assert tokens.answers[TOKEN]["outcome"] == "timed_out"


def test_the_store_loop_is_watched_too(fakes: Fakes) -> None:
    """Complete could not store the video: after the store loop's wait, GMI still says done -> back to Complete,
    with the count of failed stores kept."""
    _answer(fakes, "success")
    watcher, _, tokens, _ = _watcher(fakes, 300)
    state = _state(next_wait=10, failed_stores=2).model_copy(
        update={"store_error": CaughtError.model_validate({"Error": "VideoNotStoredError", "Cause": "{}"})}
    )
    assert watcher.handle(_message(state), sent_at=SUBMITTED_AT + 290) == PollOutcome.SUCCEEDED
    assert tokens.answers[TOKEN]["failed_stores"] == 2


def test_the_token_never_reaches_reprs_or_logs(fakes: Fakes, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _answer(fakes, "processing")
    watcher, queue, tokens, _ = _watcher(fakes, 20)
    message = _message(_state())
    watcher.handle(message, sent_at=SUBMITTED_AT)
    tokens.closed.add(TOKEN)
    watcher.handle(message, sent_at=SUBMITTED_AT)
    assert TOKEN not in repr(message)
    assert TOKEN not in str(queue.sent)
    assert TOKEN not in caplog.text
    assert json.loads(queue.sent[0][0].body())["task_token"] == TOKEN  # only the queue carries it


# ---- at most one live chain of looks per job (issue 24, defect 2) -------------------------------------------


def _copy(message: WatchMessage, look: int) -> WatchMessage:
    return message.model_copy(update={"look": look})


def test_every_successor_carries_the_next_look_number(fakes: Fakes) -> None:
    _answer(fakes, "processing")
    watcher, queue, _, _ = _watcher(fakes, 20)
    watcher.handle(_message(_state()), sent_at=SUBMITTED_AT, message_id="m-0")
    ((successor, _),) = queue.sent
    assert successor.look == 1
    assert json.loads(successor.body())["look"] == 1


def test_a_hop_carries_the_next_look_number_too(fakes: Fakes) -> None:
    watcher, queue, _, _ = _watcher(fakes, 0)
    watcher.handle(_message(_state(next_wait=1500)), sent_at=SUBMITTED_AT - 900, message_id="m-0")
    ((hop, _),) = queue.sent
    assert hop.look == 1


def test_a_second_copy_of_a_look_makes_no_get_and_sends_nothing(fakes: Fakes) -> None:
    """SQS delivered the state machine's message twice (same message id), both within the lease: one look."""
    _answer(fakes, "processing")
    _answer(fakes, "processing")
    watcher, queue, _, _ = _watcher(fakes, 20)
    message = _message(_state())

    assert watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-0") == PollOutcome.WAITING
    assert watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-0") is None

    assert fakes.gmi.looked_up == ["req-1"]
    assert len(queue.sent) == 1


def test_a_redelivered_record_whose_successor_was_already_claimed_stops(fakes: Fakes) -> None:
    """A timed-out batch comes back whole: a record already handled (its successor sent and claimed) is stale,
    even after its lease is over."""
    _answer(fakes, "processing")
    _answer(fakes, "processing")
    watcher, queue, _, clock = _watcher(fakes, 20)
    first = _message(_state())
    watcher.handle(first, sent_at=SUBMITTED_AT, message_id="m-0")
    ((successor, delay),) = queue.sent
    clock.now += delay
    assert watcher.handle(successor, sent_at=clock.now - delay, message_id="m-1") == PollOutcome.WAITING
    clock.now += 200  # the batch's visibility timeout: every lease is over

    assert watcher.handle(first, sent_at=SUBMITTED_AT, message_id="m-0") is None

    assert fakes.gmi.looked_up == ["req-1", "req-1"]
    assert [sent.look for sent, _ in queue.sent] == [1, 2]


def test_a_handled_record_back_after_its_lease_before_its_successor_redoes_nothing(fakes: Fakes) -> None:
    """Its delete was lost (or its batch timed out after it): SQS brings the handled record back after the
    visibility timeout, before its successor (due later) is claimed. Its look is finished: no GET, no second
    successor (a second message of look 1 is a dead copy at best, an extra look at worst)."""
    _answer(fakes, "processing")
    _answer(fakes, "processing")
    watcher, queue, _, clock = _watcher(fakes, 20)
    message = _message(_state())
    first = watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-0", time_left_ms=lambda: 30_000)
    assert first == PollOutcome.WAITING
    clock.now += 600  # the queue's visibility timeout: the lease is over, the successor not yet claimed

    assert watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-0") is None

    assert fakes.gmi.looked_up == ["req-1"]
    assert [sent.look for sent, _ in queue.sent] == [1]


def test_a_finished_hop_is_not_redone_either(fakes: Fakes) -> None:
    watcher, queue, _, clock = _watcher(fakes, 0)
    message = _message(_state(next_wait=1500))
    watcher.handle(message, sent_at=SUBMITTED_AT - 900, message_id="m-0", time_left_ms=lambda: 30_000)
    clock.now += 600

    assert watcher.handle(message, sent_at=SUBMITTED_AT - 900, message_id="m-0") is None
    assert len(queue.sent) == 1


def test_the_same_message_after_its_lease_may_redo_a_look_whose_invocation_died(fakes: Fakes) -> None:
    """The invocation claimed the look and died before its send: SQS brings the same message back after the
    visibility timeout, and it may look again (a different copy within the lease may not)."""
    _answer(fakes, "processing")
    watcher, queue, _, clock = _watcher(fakes, 20)
    message = _message(_state())
    fakes.gmi.get_answers.appendleft(RuntimeError("the invocation dies mid-look"))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-0", time_left_ms=lambda: 25_000)
    assert watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-other") is None  # a copy, within the lease
    clock.now += 30  # past the dead invocation's deadline

    assert watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-0") == PollOutcome.WAITING

    assert [sent.look for sent, _ in queue.sent] == [1]


def test_a_look_out_of_turn_is_refused(fakes: Fakes) -> None:
    """Look 2 of a chain whose look 1 was never claimed: a fork's remnant, refused."""
    _answer(fakes, "processing")
    watcher, queue, _, _ = _watcher(fakes, 20)
    assert watcher.handle(_message(_state()), sent_at=SUBMITTED_AT, message_id="m-0") == PollOutcome.WAITING
    queue.sent.clear()
    fakes.gmi.looked_up.clear()
    assert watcher.handle(_copy(_message(_state()), 2), sent_at=SUBMITTED_AT, message_id="m-9") is None
    assert (fakes.gmi.looked_up, queue.sent) == ([], [])


def test_a_new_watch_state_starts_a_new_chain(fakes: Fakes) -> None:
    """The store loop came back to Watch: a new task token, look 0 again, whatever the old chain reached."""
    _answer(fakes, "processing")
    _answer(fakes, "processing")
    watcher, _, _, _ = _watcher(fakes, 20)
    watcher.handle(_copy(_message(_state()), 0), sent_at=SUBMITTED_AT, message_id="m-0")
    renewed = WatchMessage.model_validate(
        {"task_token": TOKEN + "-next", "state": _state().model_dump(), "due_at": None}
    )
    assert watcher.handle(renewed, sent_at=SUBMITTED_AT, message_id="m-1") == PollOutcome.WAITING
    assert len(fakes.gmi.looked_up) == 2
    item = fakes.repo.jobs[JOB_ID]
    assert TOKEN not in json.dumps(item)  # the chain is a hash of the token
    assert item["watch_look"] == 0


def test_a_look_that_may_not_fit_the_time_left_is_sent_again_untouched(fakes: Fakes) -> None:
    """The batch's later records, once the invocation has less time than a look at its worst: no claim, no GET;
    the same look goes back on the queue at once (not a batch item failure: no receive counted)."""
    watcher, queue, _, _ = _watcher(fakes, 20)
    message = _copy(_message(_state()), 3)

    verdict = watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-3", time_left_ms=lambda: 15_000)

    assert verdict is None
    assert fakes.gmi.looked_up == []
    ((again, delay),) = queue.sent
    assert (again.look, delay, again.due_at) == (3, 0, SUBMITTED_AT + 20)
    assert "watch_look" not in fakes.repo.jobs[JOB_ID]  # not claimed: the copy may claim it
    assert watcher.look_needs_seconds > 15


def test_a_look_that_failed_after_its_claim_gives_it_back_to_its_own_redelivery(fakes: Fakes) -> None:
    """Step Functions throttled the answer: the record fails, and SQS's redelivery of the same message may look
    again at once; another copy still may not."""
    _answer(fakes, "success")
    _answer(fakes, "success")
    watcher, _, tokens, _ = _watcher(fakes, 20)
    message = _message(_state())
    real_succeed = tokens.succeed
    tokens.succeed = lambda token, output: (_ for _ in ()).throw(RuntimeError("ThrottlingException"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-0")
    tokens.succeed = real_succeed  # type: ignore[method-assign]

    assert watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-copy") is None
    assert watcher.handle(message, sent_at=SUBMITTED_AT, message_id="m-0") == PollOutcome.SUCCEEDED
    assert fakes.gmi.looked_up == ["req-1", "req-1"]


def test_a_hop_whose_send_failed_gives_its_claim_back(fakes: Fakes) -> None:
    watcher, queue, _, _ = _watcher(fakes, 0)
    message = _message(_state(next_wait=1500))
    real_send = queue.send
    queue.send = lambda sent, delay: (_ for _ in ()).throw(RuntimeError("SQS throttled"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        watcher.handle(message, sent_at=SUBMITTED_AT - 900, message_id="m-0")
    queue.send = real_send  # type: ignore[method-assign]

    watcher.handle(message, sent_at=SUBMITTED_AT - 900, message_id="m-0")

    ((hop, _),) = queue.sent
    assert hop.look == 1
