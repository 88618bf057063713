"""The end of a submission GMI accepted: announce it and start the polling execution (idempotent by name)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from i2v.domain import catalog
from i2v.domain.events import DetailType, submitted_detail
from i2v.domain.jobs import FailureCategory, JobFailedError
from i2v.domain.options import SubmitOptions
from i2v.domain.polling import learn_expectation, next_wait_seconds
from i2v.domain.record import JobRecord
from i2v.domain.workflow import ExecutionInput
from i2v.services.ports import JobRepositoryPort, PublisherPort, WorkflowPort


@dataclass
class ExecutionStart:
    options: SubmitOptions
    repo: JobRepositoryPort
    publisher: PublisherPort
    workflow: WorkflowPort
    clock: Callable[[], float] = time.time

    def announce_and_start(self, job: JobRecord, gmi_status: str | None) -> None:
        self.publisher.publish(DetailType.SUBMITTED, submitted_detail(job))
        name = f"{job.job_id}-{job.attempt}"
        self.workflow.start(name, self.execution_input(job, gmi_status).model_dump(mode="json"))
        self.repo.annotate(job.job_id, {"execution_name": name})

    def execution_input(self, job: JobRecord, gmi_status: str | None) -> ExecutionInput:
        if job.request_id is None:  # only SUBMITTED jobs get here, and those always have one
            raise JobFailedError(FailureCategory.INTERNAL, f"job {job.job_id} has no GMI request id")
        policy = self.options.poll_policy
        time_class = catalog.time_class_of(job.model, job.settings)
        expectation = learn_expectation(self.repo.recent_generation_seconds(job.model, time_class), policy)
        if expectation is None:  # a class not yet seen min_samples times: the model's other classes, a wider window
            expectation = learn_expectation(self.repo.recent_generation_seconds(job.model, None), policy)
        now = self.clock()
        return ExecutionInput.first(
            job_id=job.job_id,
            attempt=job.attempt,
            request_id=job.request_id,
            model=job.model,
            time_class=time_class,
            submitted_at=now,
            deadline_at=now + self.options.job_deadline_seconds,
            gmi_status=gmi_status,
            expectation=expectation,
            first_wait_seconds=next_wait_seconds(0, policy, expectation),
        )
