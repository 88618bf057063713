"""Watch use case: one look at a job whose Watch state waits on a task token, woken by a delayed SQS message.

The poll loop without sleeping: nothing is billed between two looks but the message that carries the job. Each
delivery heartbeats the token (a closed task means this message is a stale copy: it stops), looks once (the
same verdict as a Poll task, store loop included), and either sends the job on, delayed by the policy's next
wait, or answers the token with the verdict, which the state machine routes like a Poll result.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from i2v.domain.polling import PollOutcome
from i2v.domain.workflow import SQS_MAX_DELAY_SECONDS, WatchMessage
from i2v.services.poll import PollService
from i2v.services.ports import TaskTokenPort, WatchQueuePort
from i2v.services.store_later import look

logger = logging.getLogger(__name__)

# A message delivered this close to its due time is looked at now rather than sent on for the last second.
DUE_TOLERANCE_SECONDS = 1.0


def _no_inline_sleep() -> int:
    """The poll service sleeps through short waits only while its invocation has time left: none here."""
    return 0


@dataclass
class WatchService:
    poller: PollService
    queue: WatchQueuePort
    tokens: TaskTokenPort
    clock: Callable[[], float] = time.time

    def handle(self, message: WatchMessage, sent_at: float) -> PollOutcome | None:
        """One delivery (`sent_at`: SQS's SentTimestamp, seconds). Returns the verdict it answered the token
        with, WAITING when it sent the job on, None when the task was closed or the look is not due yet."""
        token = message.task_token.get_secret_value()
        state = message.state
        job_id = state.job_id
        if not self.tokens.heartbeat(token):
            logger.info("job %s: its Watch task is closed; this look stops", job_id)
            return None
        now = self.clock()
        due_at = message.due_at if message.due_at is not None else sent_at + state.poll.next_wait_seconds
        if due_at - now > DUE_TOLERANCE_SECONDS:  # a wait longer than SQS can delay: hop on, no GET
            self._send(message.model_copy(update={"due_at": due_at}), due_at - now)
            return None
        result = look(self.poller, state, _no_inline_sleep)
        if result.outcome == PollOutcome.WAITING:
            next_state = state.model_copy(update={"poll": result})
            wait = result.next_wait_seconds
            self._send(WatchMessage(task_token=message.task_token, state=next_state, due_at=now + wait), wait)
            return PollOutcome.WAITING
        if not self.tokens.succeed(token, result.dumped()):
            logger.info("job %s: its Watch task closed before the verdict %s", job_id, result.outcome)
            return None
        return result.outcome

    def _send(self, message: WatchMessage, wait_seconds: float) -> None:
        self.queue.send(message, min(SQS_MAX_DELAY_SECONDS, max(0, math.ceil(wait_seconds))))
