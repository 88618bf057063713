"""S3's limit on user-defined metadata, which moto does not enforce: "the user-defined metadata is limited to 2 KB
in size", measured as the sum of the UTF-8 bytes of each key and value
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html). Over it S3 answers 400
MetadataTooLarge and stores nothing; while the local stack runs, PutObject, CopyObject and
CreateMultipartUpload do the same (checked before moto stores anything)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response

MAX_USER_METADATA_BYTES = 2048
_PREFIX = "x-amz-meta-"


def user_metadata_bytes(headers: Mapping[str, str]) -> int:
    return sum(
        len(name[len(_PREFIX) :].encode()) + len(str(value).encode())
        for name, value in headers.items()
        if name.lower().startswith(_PREFIX)
    )


def _refuse_if_too_large(headers: Mapping[str, str]) -> None:
    if user_metadata_bytes(headers) > MAX_USER_METADATA_BYTES:
        raise S3ClientError("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")


def _checked(original: Callable[..., Any], headers_of: Callable[..., Mapping[str, str]]) -> Callable[..., Any]:
    def call(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        _refuse_if_too_large(headers_of(self, *args))
        return original(self, *args, **kwargs)

    return call


def metadata_limited() -> AbstractContextManager[Any]:
    from_self = _checked(S3Response.put_object, lambda self: self.headers)
    copy = _checked(S3Response.copy_object, lambda self: self.headers)
    # CreateMultipartUpload is a POST on the key (its other POSTs carry no metadata headers).
    post = _checked(S3Response._key_response_post, lambda self, request, *_: request.headers)
    return mock.patch.multiple(S3Response, put_object=from_self, copy_object=copy, _key_response_post=post)
