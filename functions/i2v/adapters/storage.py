"""S3 access: the source image (HEAD, first bytes, presigned GET) and the streamed video upload."""

from __future__ import annotations

from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from i2v.adapters.aws import client, presigning_s3_client
from i2v.domain.objects import ObjectInfo, Readable

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchBucket"}


def _version(version_id: str | None) -> dict[str, str]:
    return {"VersionId": version_id} if version_id else {}


class SourceImages:
    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectInfo | None:
        try:
            response = client("s3").head_object(Bucket=bucket, Key=key, **_version(version_id))
        except ClientError as error:
            if error.response["Error"]["Code"] in _MISSING or error.response.get("Error", {}).get("Code") == "400":
                return None
            raise
        return ObjectInfo(
            size=int(response.get("ContentLength", 0)),
            content_type=response.get("ContentType"),
            etag=str(response.get("ETag", "")).strip('"'),
            metadata=dict(response.get("Metadata") or {}),
            version_id=response.get("VersionId"),
        )

    def is_deleted(self, bucket: str, key: str) -> bool:
        """True when the key itself is gone: in a versioned bucket a plain DELETE leaves the versions behind
        under a delete marker, so a HEAD of the version alone does not tell that the user deleted the image."""
        try:
            client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in _MISSING:
                return True
            raise
        return False

    def first_bytes(self, bucket: str, key: str, version_id: str | None, count: int) -> bytes:
        """A ranged GET: the format check never downloads the whole image."""
        response = client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{count - 1}", **_version(version_id))
        body: bytes = response["Body"].read(count)
        return body

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, count: int) -> bytes:
        """Bytes start..start+count-1 (fewer at the end of the object): a manifest is read a chunk at a time."""
        response = client("s3").get_object(
            Bucket=bucket, Key=key, Range=f"bytes={start}-{start + count - 1}", **_version(version_id)
        )
        body: bytes = response["Body"].read()
        return body

    def presign_get(self, bucket: str, key: str, version_id: str | None, ttl_seconds: int) -> str:
        url: str = presigning_s3_client().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key, **_version(version_id)}, ExpiresIn=ttl_seconds
        )
        return url


class VideoStore:
    """Multipart upload from a stream with a bounded number of parts in memory; failures abort the upload."""

    def __init__(self, part_size: int = 8 * 1024 * 1024, parts_in_memory: int = 4, concurrency: int = 8) -> None:
        self._config = TransferConfig(
            multipart_threshold=part_size,
            multipart_chunksize=part_size,
            max_concurrency=concurrency,
            use_threads=True,
        )
        # Bounds memory to about part_size x parts_in_memory whatever the video size (boto3 hides this knob).
        # More threads than parts in memory keeps every buffered part uploading while the next one downloads
        # (benchmark 2, docs/benchmarks.md: a small gain over 4 threads, memory unchanged).
        self._config.max_in_memory_upload_chunks = parts_in_memory

    def upload(self, stream: Readable, bucket: str, key: str, content_type: str, metadata: dict[str, str]) -> None:
        extra: dict[str, Any] = {"ContentType": content_type, "Metadata": metadata}
        client("s3").upload_fileobj(stream, bucket, key, ExtraArgs=extra, Config=self._config)

    def size_of(self, bucket: str, key: str) -> int | None:
        try:
            return int(client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"])
        except ClientError as error:
            if error.response["Error"]["Code"] in _MISSING:
                return None
            raise
