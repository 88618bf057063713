"""AWS public list prices, us-east-1, as checked on PRICES_DATE, no free tier applied: PRICES for the operations of
one video (benchmarks.pricing), BILL_PRICES for the rest of the month's bill (benchmarks.bill), and where each one
is from (PRICE_SOURCES, printed on the cost page)."""

from __future__ import annotations

PRICES_DATE = "2026-01"
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "sfn_transition": 0.025 / 1000,
    "ddb_write_unit": 0.625 / 1e6,
    "ddb_read_unit": 0.125 / 1e6,
    "s3_put": 0.005 / 1000,
    "s3_get": 0.0004 / 1000,
    "sqs_request": 0.40 / 1e6,
    "eventbridge_event": 1.00 / 1e6,
    "logs_ingest_gb": 0.50,
    "xray_trace": 5.00 / 1e6,
    "secrets_api_call": 0.05 / 10000,
}
BILL_PRICES = {
    "xray_trace_retrieved": 0.50 / 1e6,  # retrieved or scanned
    "cw_custom_metric_month": 0.30,  # first 10,000 metrics; prorated by the hour, billed in hours with data
    "cw_alarm_metric_month": 0.10,  # standard resolution, per metric the alarm evaluates
    "cw_dashboard_month": 3.00,
    "logs_storage_gb_month": 0.03,
    "kms_key_month": 1.00,
    "kms_request": 0.03 / 10000,
    "secret_month": 0.40,
    "scheduler_invocation": 1.00 / 1e6,
    "ddb_storage_gb_month": 0.25,
    "ddb_pitr_gb_month": 0.20,
    "eventbridge_archive_gb": 0.10,  # events archived
    "s3_storage_gb_month": 0.023,  # Standard, first 50 TB
}
PRICE_SOURCES = (
    (
        "Lambda arm64 GB-s, requests; INIT billed like the handler since 2025-08-01",
        "aws.amazon.com/lambda/pricing, AWS Compute Blog 'AWS Lambda standardizes billing for INIT Phase'",
    ),
    ("X-Ray $5.00 per million traces recorded, $0.50 per million retrieved or scanned", "aws.amazon.com/xray/pricing"),
    (
        "CloudWatch: custom metric $0.30 a month (hourly prorated), alarm $0.10 per metric, dashboard $3.00, logs "
        "$0.50 per GB ingested and $0.03 per GB-month stored",
        "aws.amazon.com/cloudwatch/pricing",
    ),
    ("KMS $1.00 per key-month, $0.03 per 10,000 requests", "aws.amazon.com/kms/pricing"),
    ("Secrets Manager $0.40 per secret-month, $0.05 per 10,000 API calls", "aws.amazon.com/secrets-manager/pricing"),
    (
        "EventBridge custom events $1.00 per million, archive $0.10 per GB; Scheduler $1.00 per million invocations",
        "aws.amazon.com/eventbridge/pricing",
    ),
    (
        "DynamoDB on-demand $0.625 per million WRU, $0.125 per million RRU, storage $0.25 and PITR $0.20 per GB-month",
        "aws.amazon.com/dynamodb/pricing/on-demand",
    ),
    ("S3 Standard $0.023 per GB-month, PUT $0.005 and GET $0.0004 per 1,000", "aws.amazon.com/s3/pricing"),
    (
        "SQS $0.40 per million requests; Step Functions Standard $0.025 per 1,000 transitions",
        "aws.amazon.com/sqs/pricing, aws.amazon.com/step-functions/pricing",
    ),
)
