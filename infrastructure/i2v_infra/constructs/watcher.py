"""The watch queue and the watch function: the poll loop's looks, each woken by a delayed SQS message.

The Watch state (state_machine.watch_state) sends the job with its task token; the watch function looks once per
delivery and sends it on, delayed by the policy's next wait, or answers the token (i2v.services.watch). Nothing
sleeps in an invocation: between two looks a job costs one queued message (docs/benchmarks.md, cost).
"""

from __future__ import annotations

import math

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from i2v.services.watch import BATCH_TAIL_SECONDS, worst_look_seconds
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.functions import PipelineFunction
from i2v_infra.constructs.ingestion import VISIBILITY_TIMEOUT_FACTOR
from i2v_infra.constructs.keys import customer_key
from i2v_infra.constructs.queues import dead_letter_queue, work_queue
from i2v_infra.constructs.records import Records
from i2v_infra.iam import grant_job_records, grant_read_secret
from i2v_infra.nag import acknowledge

# Looks are independent (one job each) and short: a batch is what arrived at once, never a wait for more. A batch
# of 10 looks at their worst (worst_look_seconds each) would outlast the timeout: each record checks the time left
# before its GET and sends itself again when a look may not fit (i2v.services.watch).
WATCH_BATCH_SIZE = 10


class Watcher(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        code: lambda_.Code,
        records: Records,
        environment: dict[str, str],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        # At least one look at its worst and the re-sending of the rest of the batch: every batch makes progress.
        one_look = worst_look_seconds(config.gmi_timeout_seconds) + BATCH_TAIL_SECONDS
        timeout = Duration.seconds(max(2 * (config.gmi_timeout_seconds + 5), math.ceil(one_look)))
        self.visibility_timeout_seconds = int(timeout.to_seconds()) * VISIBILITY_TIMEOUT_FACTOR
        # A failed look is delivered again until this many receives, then its message goes to the DLQ; the Watch
        # state's heartbeat then runs out and the fallback Poll loop takes over the job.
        self.max_receive_count = config.max_receive_count
        self.dead_letter_queue = dead_letter_queue(self, key=customer_key(self, config))
        self.queue = work_queue(
            self,
            "Queue",
            visibility_timeout=Duration.seconds(self.visibility_timeout_seconds),
            # A job's message outlives no job: the deadline is at most 6 hours (JOB_DEADLINE_SECONDS).
            retention_period=Duration.days(1),
            dead_letters=self.dead_letter_queue,
            max_receive_count=self.max_receive_count,
            key=customer_key(self, config),
        )
        self.function = PipelineFunction(
            self,
            "Function",
            code=code,
            handler="i2v.handlers.watch.handler",
            description="i2v watch: one look at a waiting job per delayed message; send it on or answer its task",
            memory_size=128,  # one HTTPS GET and two AWS calls per look
            timeout=timeout,
            environment={**environment, "WATCH_QUEUE_URL": self.queue.queue_url},
            log_retention=log_retention,
            # An SQS-triggered invocation arrives with no sampled trace header: PassThrough traces none of the
            # looks, Active makes each one a trace of its own (trace_looks; cost in docs/deploy.md).
            tracing=lambda_.Tracing.ACTIVE if config.trace_looks else lambda_.Tracing.PASS_THROUGH,
        )
        fn = self.function.function
        fn.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=WATCH_BATCH_SIZE,
                max_batching_window=Duration.seconds(0),  # a due look waits for nothing (detection lag)
                report_batch_item_failures=True,
                # Lambda's pollers hand no more batches than this to the function: no throttled receive (which
                # would count towards maxReceiveCount), and the looks leave the account's concurrency to the rest.
                max_concurrency=config.watch_concurrency,
            )
        )
        self.queue.grant_send_messages(fn)
        grant_job_records(fn, records.table, ["GetItem", "UpdateItem"])
        grant_read_secret(fn, records.api_key_secret)

        acknowledge(
            self.dead_letter_queue,
            "Serverless-SQSRedrivePolicy",
            "This queue is the dead-letter queue of the watch queue; a DLQ of a DLQ would hide messages. The "
            "WatchDeadLetterQueueNotEmpty alarm fires on its first message.",
        )
        if not config.trace_looks:
            acknowledge(
                fn,
                "Serverless-LambdaTracing",
                "PassThrough on purpose (config trace_looks): each SQS-triggered look would start an X-Ray trace "
                "of its own at $5 per million, about a third of a video's AWS cost; the looks keep their logs and "
                "metrics, and the execution's trace shows the Watch state.",
            )
        acknowledge(
            fn,
            "Serverless-LambdaDLQ",
            "watch is invoked synchronously by its SQS event source mapping; a function DLQ applies only to "
            "asynchronous invocations. Failed messages go to the watch queue's redrive DLQ.",
        )
        acknowledge(
            fn,
            "Serverless-LambdaEventSourceMappingDestination",
            "SQS event source mappings do not support on-failure destinations; the queue's redrive policy moves a "
            f"message to the DLQ after {self.max_receive_count} receives, and the Watch state's heartbeat hands "
            "the job to the fallback Poll loop.",
        )

    def longest_stay_after_deadline(self, heartbeat_seconds: int, max_wait_seconds: int) -> int:
        """How long a Watch state may still wait after the job's deadline: the last look lands on it at worst a
        wait late, and a look that keeps failing heartbeats at each of its deliveries (a visibility timeout
        apart, each running to the function's timeout) before its message is dead-lettered; the heartbeat then
        runs out."""
        timeout = int(self.function.function.timeout.to_seconds()) if self.function.function.timeout else 0
        redeliveries = (self.max_receive_count - 1) * self.visibility_timeout_seconds
        return max_wait_seconds + redeliveries + timeout + heartbeat_seconds

    def answers(self, state_machine: sfn.StateMachine) -> None:
        """The watch function heartbeats and answers the Watch state's task tokens of this state machine (not
        SendTaskFailure, which CDK's grant_task_response adds: a look's verdict is always a success)."""
        self.function.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskHeartbeat", "states:SendTaskSuccess"],
                resources=[state_machine.state_machine_arn],
            )
        )
