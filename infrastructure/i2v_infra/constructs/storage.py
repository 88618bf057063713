"""Buckets: input (versioned: object versions identify jobs), output, and the access-log bucket."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from i2v_infra.config import ConfigError, PipelineConfig
from i2v_infra.constructs.keys import customer_key
from i2v_infra.nag import acknowledge


def _abort_uploads() -> s3.LifecycleRule:
    return s3.LifecycleRule(
        id="abort-incomplete-multipart-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)
    )


class Storage(Construct):
    """Creates whichever of the input/output buckets the caller did not bring."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        input_bucket: s3.IBucket | None = None,
        output_bucket: s3.IBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if input_bucket is not None and input_bucket is output_bucket:
            _check_shared_bucket_prefixes(config)
        # Existing buckets named in the config (bring your own): imported, never modified but for the input
        # bucket's notifications (Ingestion) and our roles' grants.
        input_bucket = _existing(self, "ExistingInput", input_bucket, config.input_bucket_name, "input_bucket")
        output_bucket = _existing(self, "ExistingOutput", output_bucket, config.output_bucket_name, "output_bucket")
        self.key = customer_key(self, config)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.log_bucket: s3.Bucket | None = None
        if input_bucket is None or output_bucket is None:
            self.log_bucket = s3.Bucket(
                self,
                "AccessLogs",
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                encryption=s3.BucketEncryption.S3_MANAGED,  # S3 server access logging supports SSE-S3 only
                enforce_ssl=True,
                minimum_tls_version=1.2,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                lifecycle_rules=[
                    _abort_uploads(),
                    s3.LifecycleRule(
                        id="expire-access-logs", expiration=Duration.days(config.access_log_retention_days)
                    ),
                ],
                removal_policy=removal,
            )
            acknowledge(
                self.log_bucket,
                "AwsSolutions-S1",
                "This is the server access log bucket of the pipeline's buckets; logging it into itself would "
                "loop, and CloudTrail data events cover who reads the logs.",
            )

        self.input_bucket: s3.IBucket = input_bucket or s3.Bucket(
            self,
            "Input",
            versioned=True,  # the object version id is part of the job id
            **self._secured("input/"),
            lifecycle_rules=[
                _abort_uploads(),
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(config.noncurrent_version_retention_days),
                ),
            ],
            removal_policy=removal,
        )
        self.output_bucket: s3.IBucket = output_bucket or s3.Bucket(
            self,
            "Output",
            **self._secured("output/"),
            lifecycle_rules=[_abort_uploads()],  # complete streams videos as multipart uploads
            removal_policy=removal,
        )

    def _secured(self, access_log_prefix: str) -> dict[str, Any]:
        """What every data bucket of the pipeline gets, in one place so no bucket can miss a part."""
        return {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            **bucket_encryption(self.key),
            "enforce_ssl": True,
            "minimum_tls_version": 1.2,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "server_access_logs_bucket": self.log_bucket,
            "server_access_logs_prefix": access_log_prefix,
        }


def bucket_encryption(key: kms.IKey | None) -> dict[str, Any]:
    """SSE-S3, or SSE-KMS under the customer managed key with an S3 Bucket Key (far fewer KMS requests)."""
    if key is None:
        return {"encryption": s3.BucketEncryption.S3_MANAGED}
    return {"encryption": s3.BucketEncryption.KMS, "encryption_key": key, "bucket_key_enabled": True}


def _existing(
    scope: Construct, construct_id: str, given: s3.IBucket | None, name: str | None, prop: str
) -> s3.IBucket | None:
    """The bucket given to the construct, or the one named by the config, never both (which would win is a guess)."""
    if name is None:
        return given
    if given is not None:
        raise ConfigError(f"i2v.{prop}_name is set and the construct was given {prop}= too: give one of them")
    return s3.Bucket.from_bucket_name(scope, construct_id, name)


def _check_shared_bucket_prefixes(config: PipelineConfig) -> None:
    a, b = config.input_prefix, config.output_prefix
    if a.startswith(b) or b.startswith(a):
        raise ConfigError(
            f"input and output share one bucket, so i2v.input_prefix ({a!r}) and i2v.output_prefix ({b!r}) "
            "must not overlap: videos written under the input prefix would be submitted again"
        )
