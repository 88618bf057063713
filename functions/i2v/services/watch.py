"""Watch use case: one look at a job whose Watch state waits on a task token, woken by a delayed SQS message.

The poll loop without sleeping: nothing is billed between two looks but the message that carries the job. Each
delivery heartbeats the token (a closed task means this message is a stale copy: it stops), claims its look on
the job item (a second copy of the same look is refused: it stops), looks once (the same verdict as a Poll task,
store loop included), and either sends the job on, delayed by the policy's next wait, or answers the token with
the verdict, which the state machine routes like a Poll result.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from i2v.domain.claims import WatchLookClaim
from i2v.domain.gmi_answers import CONNECT_TIMEOUT
from i2v.domain.polling import PollOutcome
from i2v.domain.workflow import SQS_MAX_DELAY_SECONDS, WatchMessage
from i2v.services.poll import PollService
from i2v.services.ports import TaskTokenPort, WatchQueuePort
from i2v.services.store_later import look

logger = logging.getLogger(__name__)

# A message delivered this close to its due time is looked at now rather than sent on for the last second.
DUE_TOLERANCE_SECONDS = 1.0
# Around the GET: the claim, a record write on news, the send or the answer (each tens of ms; room for retries).
AWS_CALLS_SECONDS = 5.0
# Kept back for the records after the last look of a batch: each is sent again (one SendMessage) untouched.
BATCH_TAIL_SECONDS = 5.0


def worst_look_seconds(gmi_timeout_seconds: float) -> float:
    """The longest one look may take: GMI's GET at its connect and read timeouts, and the AWS calls around it."""
    return CONNECT_TIMEOUT + gmi_timeout_seconds + AWS_CALLS_SECONDS


def chain_id(token: str) -> str:
    """Names a Watch task's chain of looks on the job item without writing its token there."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _no_inline_sleep() -> int:
    """The poll service sleeps through short waits only while its invocation has time left: none here."""
    return 0


@dataclass
class WatchService:
    poller: PollService
    queue: WatchQueuePort
    tokens: TaskTokenPort
    clock: Callable[[], float] = time.time
    # What a look needs of its invocation's time left before it starts (worst_look_seconds + BATCH_TAIL_SECONDS).
    look_needs_seconds: float = worst_look_seconds(10) + BATCH_TAIL_SECONDS

    def handle(
        self,
        message: WatchMessage,
        sent_at: float,
        message_id: str = "",
        time_left_ms: Callable[[], int] = lambda: 900_000,
    ) -> PollOutcome | None:
        """One delivery (`sent_at`: SQS's SentTimestamp, seconds; `message_id`: SQS's, the same for every copy
        of one message). Returns the verdict it answered the token with, WAITING when it sent the job on, None
        when the task was closed, the copy stale, the look not due yet, or sent again for want of time."""
        token = message.task_token.get_secret_value()
        state = message.state
        job_id = state.job_id
        if not self.tokens.heartbeat(token):
            logger.info("job %s: its Watch task is closed; this look stops", job_id)
            return None
        now = self.clock()
        due_at = message.due_at if message.due_at is not None else sent_at + state.poll.next_wait_seconds
        hop = due_at - now > DUE_TOLERANCE_SECONDS  # a wait longer than SQS can delay: hop on, no GET
        if not hop and time_left_ms() / 1000 < self.look_needs_seconds:
            # Re-sent rather than failed back to SQS: a batch item failure would count a receive towards
            # maxReceiveCount and wait out the visibility timeout; the copy (unclaimed, same look) goes at once.
            logger.info("job %s: no time left in this invocation for look %d; sent again", job_id, message.look)
            self._send(message.model_copy(update={"due_at": due_at}), 0)
            return None
        claim = self._claim(message, token, message_id, now, time_left_ms)
        if claim is None:
            return None
        try:
            if hop:
                self._send(message.model_copy(update={"due_at": due_at, "look": message.look + 1}), due_at - now)
                verdict = None
            else:
                verdict = self._look(message, token, now)
        except Exception:
            # The record fails and SQS delivers it again: this same message may redo its look at once.
            self.poller.repo.release_look(job_id, claim)
            raise
        if hop or verdict == PollOutcome.WAITING:
            self._finish(job_id, claim)
        return verdict

    def _look(self, message: WatchMessage, token: str, now: float) -> PollOutcome | None:
        state = message.state
        result = look(self.poller, state, _no_inline_sleep)
        if result.outcome == PollOutcome.WAITING:
            next_state = state.model_copy(update={"poll": result})
            wait = result.next_wait_seconds
            successor = WatchMessage(
                task_token=message.task_token, state=next_state, due_at=now + wait, look=message.look + 1
            )
            self._send(successor, wait)
            return PollOutcome.WAITING
        if not self.tokens.succeed(token, result.dumped()):
            logger.info("job %s: its Watch task closed before the verdict %s", state.job_id, result.outcome)
            return None
        return result.outcome

    def _claim(
        self, message: WatchMessage, token: str, message_id: str, now: float, time_left_ms: Callable[[], int]
    ) -> WatchLookClaim | None:
        """Claim this look on the job item, held until this invocation's deadline. None: a stale copy."""
        claim = WatchLookClaim(
            chain=chain_id(token),
            look=message.look,
            message_id=message_id,
            now=now,
            lease_until=now + time_left_ms() / 1000,
        )
        if self.poller.repo.claim_look(message.state.job_id, claim):
            return claim
        logger.info("job %s: look %d is another copy's; this one stops", message.state.job_id, message.look)
        return None

    def _finish(self, job_id: str, claim: WatchLookClaim) -> None:
        """The successor is sent: this look is never redone, even by its own message back after its lease (a
        lost delete; a batch timed out after it) before the successor claims the next look. Killed between the
        send and this write, the redelivery may still redo it: one more GET, and a second successor that the
        next look's claim stops (never two live chains)."""
        try:
            self.poller.repo.finish_look(job_id, claim)
        except Exception:  # the successor is out: failing the record would only bring the same redelivery
            logger.warning("job %s: look %d not marked finished; its redelivery may redo it", job_id, claim.look)

    def _send(self, message: WatchMessage, wait_seconds: float) -> None:
        self.queue.send(message, min(SQS_MAX_DELAY_SECONDS, max(0, math.ceil(wait_seconds))))
