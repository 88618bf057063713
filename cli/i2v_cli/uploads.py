"""Uploading an image with its generation settings: as S3 user metadata, or in a settings sidecar beside it
(`--settings-file`, or automatically when the settings outgrow S3's 2 KB of metadata)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from i2v.domain import catalog
from i2v.domain.image_check import CONTENT_TYPES, SNIFF_BYTES, describe_unsupported, detect_image_format
from i2v.domain.settings import SIDECAR_KEY, InvalidSettingsError, resolve_settings
from i2v.domain.sidecar import default_sidecar_key, parse_sidecar
from i2v_cli.output import CliError
from i2v_cli.target import Target


def encode_metadata_value(value: str) -> str:
    """S3 metadata travels in HTTP headers: non-ASCII text goes as one RFC 2047 encoded word."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


# S3 limits an object's user-defined metadata to 2 KB: the UTF-8 bytes of every key and value, summed.
S3_USER_METADATA_BYTES = 2048


def metadata_bytes(metadata: dict[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode()) for name, value in metadata.items())


def check_metadata_size(metadata: dict[str, str]) -> None:
    """Refuse what S3 would refuse (a 400, or a bare 431 from an HTTP layer), naming what is too long."""
    size = metadata_bytes(metadata)
    if size > S3_USER_METADATA_BYTES:
        longest = max(metadata, key=lambda name: len(metadata[name].encode()))
        raise CliError(
            f"the settings take {size} bytes as S3 user metadata, and S3 allows {S3_USER_METADATA_BYTES} bytes in "
            f"all; the longest is {longest!r} ({len(metadata[longest].encode())} bytes): shorten it"
        )


def _as_text(settings: dict[str, Any]) -> dict[str, str]:
    chosen = {name: value for name, value in settings.items() if value is not None}
    return {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in chosen.items()}


def _check(as_text: dict[str, str], sidecar: dict[str, Any] | None, default_model: str, where: str = "") -> None:
    """Validate locally first, as the pipeline reads metadata and sidecar (`model` or the default model), so a typo
    fails here and costs nothing. The deployed pipeline checks again against its own default model."""
    try:
        resolve_settings(as_text, "", {}, {"prompt": "check"}, default_model, sidecar=sidecar, sidecar_key=where)
    except InvalidSettingsError as error:
        raise CliError(f"invalid settings: {error}") from None


def settings_metadata(settings: dict[str, Any], default_model: str = catalog.DEFAULT_MODEL_ID) -> dict[str, str]:
    """The settings as S3 user metadata, checked and within S3's 2 KB."""
    as_text = _as_text(settings)
    _check(as_text, None, default_model)
    metadata = {name: encode_metadata_value(value) for name, value in as_text.items()}
    check_metadata_size(metadata)
    return metadata


def read_settings_file(path: Path) -> dict[str, Any]:
    """A settings file for --settings-file: what the pipeline accepts as a sidecar (one JSON object of settings)."""
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        return parse_sidecar(str(path), path.read_bytes())
    except InvalidSettingsError as error:
        raise CliError(f"invalid settings: {error}") from None


def split_settings(
    settings: dict[str, Any], from_file: dict[str, Any] | None, default_model: str = catalog.DEFAULT_MODEL_ID
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """(metadata, sidecar): options stay metadata (which beats the sidecar, as in the pipeline) and a settings file
    becomes the sidecar; settings too long for S3's 2 KB of metadata all go into the sidecar instead of failing."""
    as_text = _as_text(settings)
    _check(as_text, from_file, default_model, "--settings-file")
    metadata = {name: encode_metadata_value(value) for name, value in as_text.items()}
    if metadata_bytes(metadata) <= S3_USER_METADATA_BYTES - 256:  # room for the `settings` key naming the sidecar
        return metadata, from_file
    return {}, {**(from_file or {}), **{name: value for name, value in settings.items() if value is not None}}


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
    target: Target,
    path: Path,
    key: str | None,
    settings: dict[str, Any],
    end_frame: Path | None = None,
    settings_file: Path | None = None,
) -> dict[str, str | None]:
    """Upload `path` under the input prefix (or `key`); `end_frame`: an image uploaded first under the end-frame
    prefix and named in the job's `end_frame` setting; a sidecar (`settings_file`, or settings too long for
    metadata) is uploaded first beside the image and named by its `settings` metadata, so a lost one rejects the
    job rather than letting it run on defaults."""
    data, content_type = read_image(path)
    object_key = key or f"{target.input_prefix}{path.name}"
    if not object_key.startswith(target.input_prefix):
        hint = " (an end frame goes with --end-frame)" if object_key.startswith(target.end_frame_prefix) else ""
        raise CliError(f"{object_key}: only keys under {target.input_prefix} start a job{hint}")
    if end_frame is not None:
        read_image(end_frame)
        settings = {**settings, "end_frame": f"{target.end_frame_prefix}{end_frame.name}"}
    metadata, sidecar = split_settings(settings, read_settings_file(settings_file) if settings_file else None)
    bucket = target.outputs["InputBucketName"]
    sidecar_key = default_sidecar_key(object_key) if sidecar is not None else None
    if sidecar is not None and sidecar_key is not None:
        metadata[SIDECAR_KEY] = sidecar_key
        body = json.dumps(sidecar, ensure_ascii=False).encode("utf-8")
        target.client("s3").put_object(Bucket=bucket, Key=sidecar_key, Body=body, ContentType="application/json")
    check_metadata_size(metadata)
    if end_frame is not None:
        frame_data, frame_type = read_image(end_frame)
        target.client("s3").put_object(
            Bucket=bucket, Key=settings["end_frame"], Body=frame_data, ContentType=frame_type
        )
    response = target.client("s3").put_object(
        Bucket=bucket, Key=object_key, Body=data, ContentType=content_type, Metadata=metadata
    )
    return {"bucket": bucket, "key": object_key, "version_id": response.get("VersionId"), "sidecar": sidecar_key}
