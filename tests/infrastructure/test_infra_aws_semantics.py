"""What real AWS does that cfn-lint, cdk-nag and moto do not check (issue 11, items 1, 4, 5, 6)."""

from __future__ import annotations

from typing import Any

import pytest

from i2v.domain.polling import PollPolicy
from i2v_infra.config import ConfigError, PipelineConfig
from i2v_infra.template_tools import (
    functions_by_handler,
    only_resource,
    pipeline_function,
    resources_of_type,
    state_machine_definition,
)

pytestmark = pytest.mark.xdist_group("cdk")

CONFIG = PipelineConfig()


# ---- item 1: alarms reach the topic ------------------------------------------------------------------


def test_cloudwatch_may_publish_this_accounts_alarms_to_the_topic(template_dict: dict[str, Any]) -> None:
    topic_id, _ = only_resource(template_dict, "AWS::SNS::Topic")
    _, policy = only_resource(template_dict, "AWS::SNS::TopicPolicy")
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": topic_id}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = allow["Condition"]["ArnLike"]["aws:SourceArn"]
    assert source_arn == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cloudwatch:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":alarm:*",
            ],
        ]
    }


# ---- items 4 and 5: task retries and the execution timeout -------------------------------------------


def _tasks(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    states = state_machine_definition(template)["States"]
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


def _lambda_tasks(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The tasks that invoke a pipeline function (rendered ARNs: template_tools.default_token)."""
    return {name: state for name, state in _tasks(template).items() if state["Resource"].startswith("arn:aws:lambda:")}


def test_an_invoke_that_timed_out_client_side_is_retried(template_dict: dict[str, Any]) -> None:
    for name, state in _lambda_tasks(template_dict).items():
        retried = [error for retry in state["Retry"] for error in retry["ErrorEquals"]]
        assert "Lambda.ClientExecutionTimeoutException" in retried, name
    # The one other task invokes no function: the Watch's SendMessage (or its chain of looks) failing is caught
    # into the fallback loop (Wait, Poll), which has these retries.
    assert set(_tasks(template_dict)) - set(_lambda_tasks(template_dict)) == {"Watch"}
    watch = _tasks(template_dict)["Watch"]
    assert "Retry" not in watch
    assert [catch["Next"] for catch in watch["Catch"]] == ["Wait"]


def _longest_task_seconds(state: dict[str, Any], timeout: int) -> int:
    """Read from the rendered definition: each retrier counts on its own; every attempt may run to the
    function's timeout; FULL jitter only shortens the waits."""
    attempts, waits = 1, 0
    for retry in state["Retry"]:
        attempts += retry["MaxAttempts"]
        for n in range(retry["MaxAttempts"]):
            wait = retry["IntervalSeconds"] * retry["BackoffRate"] ** n
            waits += min(wait, retry.get("MaxDelaySeconds", wait))
    return int(attempts * timeout + waits)


def _longest_watch_after_the_deadline(template: dict[str, Any], watch: dict[str, Any], max_wait: int) -> int:
    """Read from the rendered template: the Watch state's chain of looks, waiting at the deadline, dies then.

    Its next look is due one wait later at most (it lands on the deadline: wait_before_deadline). A look that
    keeps failing (say DynamoDB throttles it) still heartbeats the token first, at each of the queue's
    maxReceiveCount deliveries, a visibility timeout apart, up to a function timeout into its batch; then the
    message goes to the DLQ, and HeartbeatSeconds after the last heartbeat the state gives up (its Catch: the
    one Wait and the fallback Poll). A live chain answers sooner: a look past the deadline says timed_out."""
    queue_id = watch["Parameters"]["QueueUrl"].removeprefix("${").removesuffix("}")  # a Ref, rendered
    queue = template["Resources"][queue_id]["Properties"]
    (mapping,) = [
        m["Properties"]
        for m in resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    look_timeout = template["Resources"][mapping["FunctionName"]["Ref"]]["Properties"]["Timeout"]
    redeliveries = queue["RedrivePolicy"]["maxReceiveCount"] - 1
    last_heartbeat = max_wait + redeliveries * queue["VisibilityTimeout"] + look_timeout
    return int(last_heartbeat + watch["HeartbeatSeconds"])


def test_the_execution_timeout_outlasts_everything_that_may_run_after_the_deadline(
    template_dict: dict[str, Any],
) -> None:
    """A Poll started just before the deadline (the fallback loop's, or the store loop's), the Watch it goes
    back to, whose chain of looks dies at the deadline, the one Wait and the fallback Poll after it, Complete,
    the store loop's Poll that ends it (Complete's VideoNotStoredError past the deadline), then RecordFailure,
    each with every retry: if the execution could time out before they end, a stored video could sit behind a
    `timed_out` record."""
    handlers = {logical: handler for handler, logical in functions_by_handler(template_dict).items()}
    runs_after_the_deadline = {"Poll": 3, "Complete": 1, "RecordFailure": 1}
    max_wait = PollPolicy.model_validate(CONFIG.poll_policy).max_wait_seconds
    tail = max_wait  # the one Wait
    for name, state in _lambda_tasks(template_dict).items():
        logical = state["Resource"].rsplit(":", 1)[1]
        assert handlers[logical].startswith("i2v.handlers."), name
        timeout = template_dict["Resources"][logical]["Properties"]["Timeout"]
        tail += runs_after_the_deadline[name] * _longest_task_seconds(state, timeout)
    assert set(_lambda_tasks(template_dict)) == set(runs_after_the_deadline)
    # A look past the deadline says timed_out and never sends the job on: one Watch at most runs after it.
    tail += _longest_watch_after_the_deadline(template_dict, _tasks(template_dict)["Watch"], max_wait)
    # Past the deadline the store loop runs Complete once more at most: its Catch leads back to Poll only.
    states = state_machine_definition(template_dict)["States"]
    assert {catch["Next"] for catch in states["Complete"]["Catch"]} == {"Poll", "RecordFailure"}
    definition = state_machine_definition(template_dict)
    assert definition["TimeoutSeconds"] >= CONFIG.job_deadline_seconds + tail, (
        f"the execution may time out {CONFIG.job_deadline_seconds + tail - definition['TimeoutSeconds']} s "
        "before the states after the deadline end"
    )
    # ...and a configured margin longer than that still counts.
    assert CONFIG.workflow_timeout_seconds(60) == CONFIG.job_deadline_seconds + CONFIG.workflow_timeout_margin_seconds


# ---- item 6: limits refused at synth -----------------------------------------------------------------


def test_a_video_that_needs_more_than_10000_parts_is_refused() -> None:
    five_mib = 5 * 1024 * 1024
    PipelineConfig(max_video_bytes=10_000 * five_mib, video_part_size_bytes=five_mib)  # exactly 10,000 parts
    with pytest.raises(ConfigError, match="10001 parts; S3 allows 10000 per upload"):
        PipelineConfig.from_mapping({"max_video_bytes": 10_000 * five_mib + 1, "video_part_size_bytes": five_mib})


def test_a_poll_policy_that_could_exceed_the_execution_history_is_refused() -> None:
    busy = {"min_wait_seconds": 1, "fine_interval_seconds": 1, "inline_max_wait_seconds": 0}
    # Every Watch refused (the fallback's worst): 1501 rounds of 14 events fit.
    PipelineConfig(poll_policy=busy, job_deadline_seconds=1500)
    with pytest.raises(ConfigError, match=r"poll_policy could write \d+ Step Functions history events"):
        PipelineConfig.from_mapping({"poll_policy": busy, "job_deadline_seconds": 3600})
    # The shipped policy fits even the longest deadline allowed.
    PipelineConfig(job_deadline_seconds=21600)


def test_a_store_loop_that_could_exceed_the_execution_history_is_refused() -> None:
    """The store loop (Complete out of retries -> Poll -> Watch -> Poll -> Complete) writes ~65 events a round and
    waits the poll policy's error backoff, capped at max_wait_seconds: a short cap fills the history even when
    the poll loop alone (inline sleeps) would not."""
    short_cap = {"min_wait_seconds": 1, "fine_interval_seconds": 1, "max_wait_seconds": 2, "error_backoff_seconds": 1}
    PipelineConfig(poll_policy=short_cap, job_deadline_seconds=300)
    with pytest.raises(ConfigError, match=r"poll_policy could write \d+ Step Functions history events"):
        PipelineConfig.from_mapping({"poll_policy": short_cap, "job_deadline_seconds": 1800})


def test_a_store_round_is_counted_with_every_retry_complete_has(template_dict: dict[str, Any]) -> None:
    from i2v_infra.aws_limits import EVENTS_PER_POLL_ROUND, EVENTS_PER_STORE_ROUND

    complete = _tasks(template_dict)["Complete"]
    attempts = 1 + sum(retry["MaxAttempts"] for retry in complete["Retry"])
    complete_events = 2 + 3 * attempts  # entered, scheduled/started/failed per attempt, exited
    # Complete, its Catch's Poll and Route (the round's first look), then a whole poll round at its worst
    # (a refused Watch, Wait, Poll, Route) that sends the job back to Complete.
    refused_watch_events, wait_events = 5, 2
    first_look = EVENTS_PER_POLL_ROUND - refused_watch_events - wait_events
    assert complete_events + first_look + EVENTS_PER_POLL_ROUND == EVENTS_PER_STORE_ROUND


# ---- issue 24: the watch loop under AWS's real semantics ---------------------------------------------


def _watch_function_and_mapping(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The watch function's properties, its event source mapping's and its queue's."""
    watch_id, function = pipeline_function(template, "watch")
    (mapping,) = [
        m["Properties"]
        for m in resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": watch_id}
    ]
    queue = template["Resources"][mapping["EventSourceArn"]["Fn::GetAtt"][0]]["Properties"]
    return function, mapping, queue


def test_a_watch_batch_never_outlives_its_function(template_dict: dict[str, Any]) -> None:
    """Defect 1. Ten looks at their worst (GMI's connect and read timeouts, the AWS calls around the GET) do not
    fit the function's timeout, so the rule is the time-left check: a record looks only while the invocation has
    a worst look and the re-sending of the rest of its batch left (WatchService.look_needs_seconds, wired from
    the function's own GMI_TIMEOUT_SECONDS), else it is sent again untouched. The timeout fits one such look, so
    every batch makes progress, and the visibility timeout outlasts the invocation (a timed-out batch is never
    visible again while its invocation runs)."""
    from i2v.services.watch import BATCH_TAIL_SECONDS, worst_look_seconds

    function, mapping, queue = _watch_function_and_mapping(template_dict)
    gmi_timeout = float(function["Environment"]["Variables"]["GMI_TIMEOUT_SECONDS"])
    worst = worst_look_seconds(gmi_timeout)
    assert worst == 3.05 + CONFIG.gmi_timeout_seconds + 5
    assert mapping["BatchSize"] * worst > function["Timeout"]  # without the check a batch could outlive it
    assert function["Timeout"] >= worst + BATCH_TAIL_SECONDS
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]


def test_the_watch_handler_checks_the_time_left_with_its_own_gmi_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule above, as the watch function wires it."""
    import importlib
    import sys

    from i2v.services.watch import BATCH_TAIL_SECONDS, worst_look_seconds

    monkeypatch.setenv("JOBS_TABLE_NAME", "jobs")
    monkeypatch.setenv("EVENT_BUS_NAME", "bus")
    monkeypatch.setenv("GMI_API_KEY_SECRET_ID", "secret")
    monkeypatch.setenv("WATCH_QUEUE_URL", "https://sqs.example/watch")
    monkeypatch.setenv("GMI_TIMEOUT_SECONDS", "17")
    monkeypatch.delitem(sys.modules, "i2v.handlers.watch", raising=False)
    importlib.import_module("i2v.handlers.wiring").clear()  # the composition root caches per process
    handler = importlib.import_module("i2v.handlers.watch")
    try:
        assert handler.service().look_needs_seconds == worst_look_seconds(17) + BATCH_TAIL_SECONDS
    finally:
        handler.service.cache_clear()
        sys.modules.pop("i2v.handlers.watch", None)


@pytest.fixture(scope="module")
def full_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The stack with every optional queue: webhooks (their DLQ) and the alarm e-mail (its delivery DLQ)."""
    from i2v_infra.synth import synthesize

    hooks = [{"name": "crm", "url": "https://hooks.example.com/i2v"}]
    overrides = {"webhooks": hooks, "alarm_email": "ops@example.com"}
    return synthesize(tmp_path_factory.mktemp("cdk-full"), nag=False, config_overrides=overrides).template  # type: ignore[no-any-return]


def _queue_id(arn: Any) -> str | None:
    return arn["Fn::GetAtt"][0] if isinstance(arn, dict) and "Fn::GetAtt" in arn else None


def _dead_letter_queues(template: dict[str, Any]) -> set[str]:
    """Every queue something dead-letters into: a queue's or subscription's redrive, a function's DLQ or
    on-failure destination, a rule's or schedule's target DLQ."""
    found: set[str] = set()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        redrive = props.get("RedrivePolicy")
        if isinstance(redrive, dict):
            found.add(str(_queue_id(redrive.get("deadLetterTargetArn"))))
        found.add(str(_queue_id(props.get("DeadLetterConfig", {}).get("TargetArn"))))
        for target in props.get("Targets", []):
            found.add(str(_queue_id(target.get("DeadLetterConfig", {}).get("Arn"))))
        # a schedule's target (EventBridge Scheduler), a function's asynchronous on-failure destination
        found.add(str(_queue_id(props.get("Target", {}).get("DeadLetterConfig", {}).get("Arn"))))
        found.add(str(_queue_id(props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))))
    found.discard("None")
    return found


def _alarmed_queues(template: dict[str, Any], metric: str) -> dict[str, dict[str, Any]]:
    """Queue logical id -> the alarm on its `metric` that notifies the alarm topic."""
    topic_id, _ = only_resource(template, "AWS::SNS::Topic")
    alarmed = {}
    for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("MetricName") == metric and props["AlarmActions"] == [{"Ref": topic_id}]:
            (dimension,) = props["Dimensions"]
            alarmed[dimension["Value"]["Fn::GetAtt"][0]] = props
    return alarmed


@pytest.mark.parametrize("variant", ["default", "full"])
def test_every_dead_letter_queue_has_an_alarm_on_the_alarm_topic(
    variant: str, template_dict: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    """Defect 4: the webhooks' DLQ had none (and so had the alarm e-mail's)."""
    template = template_dict if variant == "default" else request.getfixturevalue("full_template")
    dead = _dead_letter_queues(template)
    assert len(dead) == (5 if variant == "default" else 7)  # + the sweeper schedule's and the previews DLQ
    alarmed = _alarmed_queues(template, "ApproximateNumberOfMessagesVisible")
    assert dead <= set(alarmed)
    for queue_id in dead:
        assert alarmed[queue_id]["Threshold"] == 0, queue_id  # its first message
        assert alarmed[queue_id]["Statistic"] == "Maximum"


@pytest.mark.parametrize("variant", ["default", "full"])
def test_every_queue_dead_letters_after_at_least_five_receives(
    variant: str, template_dict: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    """Defect 3: a receive Lambda's poller could not hand to a throttled function still counts; AWS asks for
    maxReceiveCount >= 5 on a Lambda's queue."""
    template = template_dict if variant == "default" else request.getfixturevalue("full_template")
    redrives = [
        resource["Properties"]["RedrivePolicy"]
        for resource in resources_of_type(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in resource["Properties"]
    ]
    assert len(redrives) == 2  # the submit and watch queues
    assert all(redrive["maxReceiveCount"] >= 5 for redrive in redrives)


def test_the_watch_queue_has_a_maximum_concurrency_and_an_oldest_message_age_alarm(
    template_dict: dict[str, Any],
) -> None:
    """Defect 3: a watch function throttled, disabled or broken by a deploy slowed every job to one look per
    heartbeat timeout without a sound. Its event source caps the function's concurrency (no throttled receive),
    and an alarm fires once a look's message is older than SQS's longest delay and one redelivery."""
    from i2v.domain.workflow import SQS_MAX_DELAY_SECONDS

    _, mapping, queue = _watch_function_and_mapping(template_dict)
    assert 2 <= mapping["ScalingConfig"]["MaximumConcurrency"] <= 1000
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    alarm = _alarmed_queues(template_dict, "ApproximateAgeOfOldestMessage")[queue_id]
    assert alarm["Threshold"] == SQS_MAX_DELAY_SECONDS + queue["VisibilityTimeout"]
    assert alarm["Statistic"] == "Maximum"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    # The alarm fires before the Watch state gives up on the chain (then the fallback Poll loop looks).
    watch = state_machine_definition(template_dict)["States"]["Watch"]
    assert alarm["Threshold"] + alarm["Period"] < watch["HeartbeatSeconds"]


def test_a_job_whose_watch_failed_once_stays_in_the_fallback_loop(template_dict: dict[str, Any]) -> None:
    """Defect 3: after the Watch state's Catch (heartbeat or timeout run out, SQS refused the message), Route
    sends the job to Wait -> Poll on the poll policy's schedule, never back to Watch for another heartbeat."""
    states = state_machine_definition(template_dict)["States"]
    assert [catch["Next"] for catch in states["Watch"]["Catch"]] == ["Wait"]
    assert {"ResultPath": "$.watch_error"}.items() <= states["Watch"]["Catch"][0].items()
    (to_wait,) = [choice for choice in states["Route"]["Choices"] if choice["Next"] == "Wait"]
    assert {"Variable": "$.watch_error", "IsPresent": True} in to_wait["Or"]
    # Route checks the outcome first: a finished job still goes to Complete or RecordFailure.
    assert [choice["Next"] for choice in states["Route"]["Choices"]] == ["Complete", "RecordFailure", "Wait"]


def test_an_input_without_the_watch_fields_goes_to_the_fallback_poll(template_dict: dict[str, Any]) -> None:
    """Defect 7: the previous release's submit code writes no `poll.queue_delay_seconds`; Watch would fail with
    States.Runtime, which no Catch takes. Both ways into Watch send such a state to Wait -> Poll, whose result
    has the field (tests/workflow/test_upgrade.py runs it)."""
    states = state_machine_definition(template_dict)["States"]
    for name in ("AlreadyDone?", "Route"):
        (to_wait,) = [choice for choice in states[name]["Choices"] if choice["Next"] == "Wait"]
        assert {"Variable": "$.poll.queue_delay_seconds", "IsPresent": False} in to_wait["Or"], name
    assert states["Watch"]["Parameters"]["DelaySeconds.$"] == "$.poll.queue_delay_seconds"


def test_the_state_machine_logs_no_execution_data(template_dict: dict[str, Any]) -> None:
    """Defect 8: the Watch task's parameters hold its task token, and a token lets whoever reads it complete the
    task. AWS logs a state's input, output and parameters only with IncludeExecutionData ("When set to false,
    data is excluded": AWS::StepFunctions::StateMachine LoggingConfiguration), whatever the level."""
    _, machine = only_resource(template_dict, "AWS::StepFunctions::StateMachine")
    logging = machine["Properties"]["LoggingConfiguration"]
    assert logging["IncludeExecutionData"] is False
    watch = state_machine_definition(template_dict)["States"]["Watch"]
    assert watch["Parameters"]["MessageBody"]["task_token.$"] == "$$.Task.Token"  # why
