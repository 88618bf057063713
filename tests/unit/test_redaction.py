from i2v.domain.redaction import REDACTED, redact, register_secret

PRESIGNED = (
    "https://bucket.s3.us-east-1.amazonaws.com/incoming/cat.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20261125%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abcdef0123456789"
)


def test_presigned_query_is_removed():
    cleaned = redact(f"could not fetch {PRESIGNED} (403)")
    assert "X-Amz-Signature" not in cleaned
    assert "AKIAEXAMPLE" not in cleaned
    assert "bucket.s3.us-east-1.amazonaws.com/incoming/cat.jpg" in cleaned


def test_bare_signature_parameters_and_bearer_tokens_are_removed():
    assert "s3cr3t" not in redact("X-Goog-Signature=s3cr3t")
    assert "tok123" not in redact("Authorization: Bearer tok123")


def test_registered_secrets_are_scrubbed_anywhere():
    register_secret("gmi-live-key-123456")
    assert redact("key gmi-live-key-123456 leaked") == f"key {REDACTED} leaked"
