"""The local stack refuses user-defined metadata over S3's 2 KB as S3 does (issue 27, item 5): 400
MetadataTooLarge and nothing stored (so no notification, no job). Size = UTF-8 bytes of each key and value
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html); moto alone stores any size."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from i2v_local.stack import LocalStack
from i2v_local.stack.driver import png_bytes
from i2v_local.stack.s3limits import MAX_USER_METADATA_BYTES, user_metadata_bytes

pytestmark = pytest.mark.xdist_group(__name__)


def _metadata(total: int) -> dict[str, str]:
    """`prompt` plus a value, `total` bytes in all (keys count without their x-amz-meta- prefix)."""
    return {"prompt": "a" * (total - len("prompt"))}


def test_metadata_of_exactly_2_kb_is_stored(local_stack: LocalStack) -> None:
    s3, bucket = local_stack.client("s3"), local_stack.outputs["InputBucketName"]
    metadata = _metadata(MAX_USER_METADATA_BYTES)
    assert user_metadata_bytes({f"x-amz-meta-{k}": v for k, v in metadata.items()}) == MAX_USER_METADATA_BYTES

    s3.put_object(Bucket=bucket, Key="incoming/limits/fits.png", Body=png_bytes(), Metadata=metadata)

    assert s3.head_object(Bucket=bucket, Key="incoming/limits/fits.png")["Metadata"] == metadata


@pytest.mark.parametrize("how", ["put", "multipart", "copy"])
def test_metadata_over_2_kb_is_refused_and_nothing_is_stored(local_stack: LocalStack, how: str) -> None:
    s3, bucket = local_stack.client("s3"), local_stack.outputs["InputBucketName"]
    key, metadata = f"incoming/limits/{how}.png", _metadata(MAX_USER_METADATA_BYTES + 1)
    if how == "copy":
        s3.put_object(Bucket=bucket, Key="source.png", Body=png_bytes())

    calls = {
        "put": lambda: s3.put_object(Bucket=bucket, Key=key, Body=png_bytes(), Metadata=metadata),
        "multipart": lambda: s3.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata),
        "copy": lambda: s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": bucket, "Key": "source.png"},
            Metadata=metadata,
            MetadataDirective="REPLACE",
        ),
    }
    with pytest.raises(ClientError) as refused:
        calls[how]()

    assert refused.value.response["Error"]["Code"] == "MetadataTooLarge"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
