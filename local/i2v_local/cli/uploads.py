"""Uploading an image with its generation settings as S3 user metadata."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from i2v.domain import catalog
from i2v.domain.image_check import CONTENT_TYPES, SNIFF_BYTES, describe_unsupported, detect_image_format
from i2v.domain.settings import InvalidSettingsError, resolve_settings
from i2v_local.cli.output import CliError
from i2v_local.cli.target import Target


def encode_metadata_value(value: str) -> str:
    """S3 metadata travels in HTTP headers: non-ASCII text goes as one RFC 2047 encoded word."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


# S3 limits an object's user-defined metadata to 2 KB: the UTF-8 bytes of every key and value, summed.
S3_USER_METADATA_BYTES = 2048


def check_metadata_size(metadata: dict[str, str]) -> None:
    """Refuse what S3 would refuse (a 400, or a bare 431 from an HTTP layer), naming what is too long."""
    size = sum(len(name.encode()) + len(value.encode()) for name, value in metadata.items())
    if size > S3_USER_METADATA_BYTES:
        longest = max(metadata, key=lambda name: len(metadata[name].encode()))
        raise CliError(
            f"the settings take {size} bytes as S3 user metadata, and S3 allows {S3_USER_METADATA_BYTES} bytes in "
            f"all; the longest is {longest!r} ({len(metadata[longest].encode())} bytes): shorten it"
        )


def settings_metadata(settings: dict[str, Any], default_model: str = catalog.DEFAULT_MODEL_ID) -> dict[str, str]:
    """Validate locally first, as the pipeline reads metadata (`model` or the default model), so a typo fails here
    and costs nothing. The deployed pipeline checks again against its own default model."""
    chosen = {name: value for name, value in settings.items() if value is not None}
    as_text = {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in chosen.items()}
    try:
        resolve_settings(as_text, "", {}, {"prompt": "check"}, default_model)
    except InvalidSettingsError as error:
        raise CliError(f"invalid settings: {error}") from None
    metadata = {name: encode_metadata_value(value) for name, value in as_text.items()}
    check_metadata_size(metadata)
    return metadata


def read_image(path: Path) -> tuple[bytes, str]:
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    data = path.read_bytes()
    # The pipeline's own categories and words (submit's validation), so the CLI and a job record agree.
    if not data:
        raise CliError(f"{path}: empty_image: the image is empty (0 bytes)")
    image_format = detect_image_format(data[:SNIFF_BYTES])
    if image_format is None:
        raise CliError(f"{path}: unsupported_format: {describe_unsupported(data[:SNIFF_BYTES])}")
    return data, CONTENT_TYPES[image_format]


def upload(
    target: Target, path: Path, key: str | None, settings: dict[str, Any], end_frame: Path | None = None
) -> dict[str, str | None]:
    """Upload `path` under the input prefix (or `key`); `end_frame`: an image uploaded first under the end-frame
    prefix and named in the job's `end_frame` setting."""
    data, content_type = read_image(path)
    object_key = key or f"{target.input_prefix}{path.name}"
    if not object_key.startswith(target.input_prefix):
        hint = " (an end frame goes with --end-frame)" if object_key.startswith(target.end_frame_prefix) else ""
        raise CliError(f"{object_key}: only keys under {target.input_prefix} start a job{hint}")
    if end_frame is not None:
        read_image(end_frame)
        settings = {**settings, "end_frame": f"{target.end_frame_prefix}{end_frame.name}"}
    metadata = settings_metadata(settings)
    bucket = target.outputs["InputBucketName"]
    if end_frame is not None:
        frame_data, frame_type = read_image(end_frame)
        target.client("s3").put_object(
            Bucket=bucket, Key=settings["end_frame"], Body=frame_data, ContentType=frame_type
        )
    response = target.client("s3").put_object(
        Bucket=bucket, Key=object_key, Body=data, ContentType=content_type, Metadata=metadata
    )
    return {"bucket": bucket, "key": object_key, "version_id": response.get("VersionId")}
