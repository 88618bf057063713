"""The IAM allow-list of the pipeline functions: (action, resource) -> the code or AWS requirement that needs it.

Read by both IAM checks (tests/security/test_iam_policy_matches_allow_list.py: the template grants exactly this;
tests/security/test_iam_calls_within_allow_list.py: the code calls nothing beyond it). Resource names are stable
names rendered from the template ("table/index/by-status", "input-bucket/incoming/*", "*").
"""

from __future__ import annotations

Grant = tuple[str, str]  # (IAM action, resource name)

HANDLERS = {
    "submit": "i2v.handlers.submit.handler",
    "poll": "i2v.handlers.poll.handler",
    "watch": "i2v.handlers.watch.handler",
    "complete": "i2v.handlers.complete.handler",
    "fail": "i2v.handlers.fail.handler",
    "sweeper": "i2v.handlers.sweeper.handler",
    "previews": "i2v.handlers.previews.handler",
}

OWN_LOG_GROUP = "own-log-group"  # the log group in the function's LoggingConfig

PLATFORM: dict[Grant, str] = {
    ("logs:CreateLogStream", OWN_LOG_GROUP): "Lambda writes the function's logs (its own group only)",
    ("logs:PutLogEvents", OWN_LOG_GROUP): "Lambda writes the function's logs (its own group only)",
    ("xray:PutTraceSegments", "*"): "active tracing; X-Ray has no resource-level permissions (AWS requires '*')",
    ("xray:PutTelemetryRecords", "*"): "active tracing; X-Ray has no resource-level permissions (AWS requires '*')",
}


# The executions of the pipeline's state machine, as the template's ARN renders (the call recorder maps a
# DescribeExecution's executionArn to the same form).
EXECUTIONS = "arn:AWS::Partition:states:AWS::Region:AWS::AccountId:execution:state-machine:*"

#: Resources ending in a wildcard that are scoped all the same, and why no narrower ARN exists.
SCOPED_WILDCARDS: dict[Grant, str] = {
    ("states:DescribeExecution", EXECUTIONS): "execution names are job ids known only at run time; the ARN "
    "names the pipeline's own state machine",
}

# The end-frame prefix of the shipped configuration (not an output of the template).
END_FRAME_PREFIX = "end-frames/"
MANIFEST_PREFIX = "manifests/"


def expected_grants(input_prefix: str, output_prefix: str) -> dict[str, dict[Grant, str]]:
    """The allow-list: (action, resource) -> the code or AWS requirement that needs it."""
    uploads, videos = f"input-bucket/{input_prefix}*", f"output-bucket/{output_prefix}*"
    end_frames = f"input-bucket/{END_FRAME_PREFIX}*"
    manifests = f"input-bucket/{MANIFEST_PREFIX}*"
    jobs = {
        ("dynamodb:GetItem", "table"): "JobRepository.get (and re-reading a job after a refused transition)",
        ("dynamodb:UpdateItem", "table"): "JobRepository.transition/annotate (conditional updates)",
    }
    secret = {("secretsmanager:GetSecretValue", "api-key-secret"): "ApiKeyReader (Powertools get_secret)"}
    publish = {("events:PutEvents", "event-bus"): "EventPublisher.publish"}
    return {
        "submit": {
            **PLATFORM,
            **jobs,
            **secret,
            **publish,
            ("dynamodb:PutItem", "table"): "JobRepository.claim: the Put of TransactWriteItems",
            ("dynamodb:Query", "table/index/by-time-class"): "recent_generation_seconds of the job's time class",
            ("dynamodb:Query", "table/index/by-status"): "recent_generation_seconds of the model (a cold class)",
            ("s3:GetObjectVersion", uploads): "SourceImages.head/first_bytes/presign_get with a version id",
            ("s3:GetObject", uploads): "SourceImages.is_deleted (HEAD of the key: a delete marker means the user "
            "deleted the image); the versioned calls for an object without a version id",
            ("s3:GetObject", end_frames): "SourceImages.head of the end frame named by metadata (current version)",
            ("s3:GetObjectVersion", end_frames): "SourceImages.first_bytes/presign_get of the end frame's version",
            ("s3:GetObject", manifests): "SourceImages.head of an image a manifest line names (current version)",
            ("s3:GetObjectVersion", manifests): "SourceImages.read_range of a manifest's version; a line's image",
            ("s3:ListBucket", "input-bucket"): "makes S3 answer 404, not 403, for a deleted upload (source_missing)",
            ("states:StartExecution", "state-machine"): "WorkflowStarter.start",
            ("sqs:SendMessage", "submit-queue"): "SubmitQueue: budget deferrals go back on the queue; "
            "send_batch (SendMessageBatch is authorized as SendMessage): a manifest's lines and next chunk",
            ("sqs:ReceiveMessage", "submit-queue"): "the SQS event source mapping (runs as the function's role)",
            ("sqs:DeleteMessage", "submit-queue"): "the SQS event source mapping (runs as the function's role)",
            ("sqs:GetQueueAttributes", "submit-queue"): "the SQS event source mapping (runs as the function's role)",
        },
        "poll": {**PLATFORM, **jobs, **secret},
        "watch": {
            **PLATFORM,
            **jobs,
            **secret,
            ("sqs:SendMessage", "watch-queue"): "WatchQueue.send: the job's next look, delayed by the policy's wait",
            ("sqs:ReceiveMessage", "watch-queue"): "the SQS event source mapping (runs as the function's role)",
            ("sqs:DeleteMessage", "watch-queue"): "the SQS event source mapping (runs as the function's role)",
            ("sqs:GetQueueAttributes", "watch-queue"): "the SQS event source mapping (runs as the function's role)",
            ("states:SendTaskHeartbeat", "state-machine"): "TaskTokens.heartbeat: every delivery, before its look",
            ("states:SendTaskSuccess", "state-machine"): "TaskTokens.succeed: the verdict the Watch state routes",
        },
        "complete": {
            **PLATFORM,
            **jobs,
            **secret,
            **publish,
            ("s3:PutObject", videos): "VideoStore.upload (PutObject or Create/UploadPart/CompleteMultipartUpload)",
            ("s3:AbortMultipartUpload", videos): "VideoStore.upload: s3transfer aborts a failed multipart upload",
            ("s3:GetObject", videos): "VideoStore.size_of (HEAD of an already stored video)",
            ("s3:ListBucket", "output-bucket"): "makes HEAD of a missing video 404, not 403",
        },
        "fail": {
            **PLATFORM,
            **jobs,
            **publish,
            ("sqs:SendMessage", "failure-dlq"): "the function's DeadLetterConfig (async invocations by the rule)",
        },
        "sweeper": {
            **PLATFORM,
            **jobs,
            **publish,
            ("dynamodb:Query", "table/index/by-status"): "JobRepository.stale: the oldest jobs of each status",
            ("dynamodb:BatchGetItem", "table"): "JobRepository.stale: their whole records (the index is narrow)",
            ("sqs:SendMessage", "submit-queue"): "the reconcile and resume messages (SubmitQueue)",
            ("states:DescribeExecution", EXECUTIONS): "Executions.describe: has an in-flight job's execution ended?",
            # Lambda's on-failure destination of its asynchronous invocations (CDK's grant to the function role).
            ("sqs:SendMessage", "sweeper-dlq"): "a failed run's event, sent by Lambda to the schedule's DLQ",
            ("sqs:GetQueueAttributes", "sweeper-dlq"): "part of CDK's send grant for the on-failure destination",
            ("sqs:GetQueueUrl", "sweeper-dlq"): "part of CDK's send grant for the on-failure destination",
        },
        "previews": {
            **PLATFORM,
            **jobs,
            **publish,
            ("s3:GetObject", videos): "StoredVideos.open: HEAD and ranged GETs of the stored video",
            ("s3:PutObject", videos): "VideoStore.upload of the poster frame and the animated preview",
            ("sqs:SendMessage", "previews-dlq"): "the function's DeadLetterConfig (async invocations by the rule)",
        },
    }


#: Lines of EXPECTED the recorded run cannot show, and why.
NOT_EXERCISED: dict[tuple[str, str], str] = {
    **{(fn, action): "called by the Lambda service, not by our code" for fn in HANDLERS for action, _ in PLATFORM},
    **{
        ("submit", "sqs:ReceiveMessage"): "the event source mapping polls the queue, not our code",
        ("submit", "sqs:DeleteMessage"): "the event source mapping deletes handled messages, not our code",
        ("submit", "sqs:GetQueueAttributes"): "the event source mapping reads the queue, not our code",
        ("watch", "sqs:ReceiveMessage"): "the event source mapping polls the queue, not our code",
        ("watch", "sqs:DeleteMessage"): "the event source mapping deletes handled messages, not our code",
        ("watch", "sqs:GetQueueAttributes"): "the event source mapping reads the queue, not our code",
        **{
            (fn, "dynamodb:GetItem"): "only when GMI reports progress the record already moved past (a refused "
            "transition re-reads the job)"
            for fn in ("poll", "watch")
        },
        ("submit", "s3:ListBucket"): "never called: it changes S3's answer to HEAD/GET of a missing key",
        ("complete", "s3:ListBucket"): "never called: it changes S3's answer to HEAD of a missing key",
        ("complete", "s3:AbortMultipartUpload"): "only when a multipart upload fails midway",
        ("complete", "s3:GetObject"): "only when a retried complete finds the video already stored",
        ("fail", "sqs:SendMessage"): "Lambda sends a failed asynchronous invocation to the DLQ, not our code",
        **{
            ("sweeper", action): "Lambda sends a failed asynchronous run to its destination, not our code; "
            "SendMessage to the submit queue only for a forgotten job (tests/scenarios/test_sweeper.py)"
            for action in ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
        },
        **{
            ("sweeper", action): "only for a forgotten job (none in this run, whose jobs are minutes old): "
            "tests/scenarios/test_sweeper.py drives each action through the local stack"
            for action in (
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:UpdateItem",
                "events:PutEvents",
                "states:DescribeExecution",
            )
        },
        ("previews", "sqs:SendMessage"): "Lambda sends a failed asynchronous invocation to the DLQ, not our code",
    },
}

#: Grants the code does not call, accepted with a reason: CDK's SqsEventSource grant, on the function's own
#: queue only (dropping them means hand-writing the event source mapping's policy), and CDK's task response grant.
ACCEPTED_EXTRAS: dict[str, dict[Grant, str]] = {
    "submit": {
        ("sqs:ChangeMessageVisibility", "submit-queue"): "CDK's SqsEventSource grant on its own queue",
        ("sqs:GetQueueUrl", "submit-queue"): "CDK's SqsEventSource grant on its own queue (read-only lookup)",
    },
    "watch": {
        ("sqs:ChangeMessageVisibility", "watch-queue"): "CDK's SqsEventSource grant on its own queue",
        ("sqs:GetQueueUrl", "watch-queue"): "CDK's SqsEventSource grant on its own queue (read-only lookup)",
    },
}


def platform_keys() -> set[tuple[str, str]]:
    """(function, action) of the grants the Lambda service uses on the function's behalf."""
    return {(fn, action) for fn in HANDLERS for action, _ in PLATFORM}
