"""The checks of an upload before anything is reserved or sent: the image (and its end frame) and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from i2v.domain.image_check import CONTENT_TYPES, SNIFF_BYTES, describe_unsupported, detect_image_format
from i2v.domain.jobs import FailureCategory, JobFailedError
from i2v.domain.options import SubmitOptions
from i2v.domain.record import JobRecord, SourceRef
from i2v.domain.settings import SIDECAR_KEY, InvalidSettingsError, JobSettings, normalized_metadata, resolve_settings
from i2v.domain.sidecar import check_sidecar_size, default_sidecar_key, named_sidecar_key, parse_sidecar
from i2v.domain.source import relative_key
from i2v.services.ports import ImageStoragePort


@dataclass
class SubmitValidation:
    options: SubmitOptions
    images: ImageStoragePort

    def validate(self, job: JobRecord) -> tuple[SourceRef, JobSettings, SourceRef | None, SourceRef | None]:
        """The checked source, its settings, its end frame and its settings sidecar (None: none); raises
        JobFailedError (the job is rejected)."""
        src = job.source
        info = self.images.head(src.bucket, src.key, src.version_id)
        if info is None or (src.version_id and self.images.is_deleted(src.bucket, src.key)):
            raise JobFailedError(FailureCategory.SOURCE_MISSING, "the image no longer exists")
        content_type = self._check_image(src.bucket, src.key, src.version_id, info.size, "the image")
        try:
            sidecar_ref, sidecar = self._sidecar(job, info.metadata)
            settings = resolve_settings(
                info.metadata,
                relative_key(src.key, self.options.input_prefix),
                self.options.prefix_presets,
                self.options.default_settings,
                self.options.gmi_model_id,
                sidecar=sidecar,
                sidecar_key=self._label(job, sidecar_ref),
            )
        except InvalidSettingsError as error:
            message = str(error)
            if job.manifest_line is not None and not message.startswith("manifest "):
                message = f"{self._label(job, None)}: {message}"  # which line of which manifest, always
            raise JobFailedError(FailureCategory.INVALID_SETTINGS, message) from None
        checked = src.model_copy(update={"size": info.size, "content_type": content_type})
        end_frame = self._end_frame(src.bucket, settings) if settings.end_frame_key else None
        return checked, settings, end_frame, sidecar_ref

    @staticmethod
    def _label(job: JobRecord, sidecar: SourceRef | None) -> str:
        if job.manifest_line is not None:
            return f"manifest {job.manifest_line.key!r} line {job.manifest_line.line}"
        return f"settings sidecar {sidecar.key!r}" if sidecar else "settings sidecar"

    def _sidecar(self, job: JobRecord, metadata: dict[str, str]) -> tuple[SourceRef | None, dict[str, object] | None]:
        """The settings sidecar: the version this job read first (pinned on its record), else the one its
        `settings` metadata names (required), else `<image>.json` beside it if there is one."""
        bucket = job.source.bucket
        if job.manifest_line is not None:  # a manifest line's settings stand where a sidecar would
            return None, dict(job.line_settings or {})
        named = normalized_metadata(metadata).get(SIDECAR_KEY, "").strip()
        version_id: str | None = None
        if job.sidecar is not None:
            key, version_id, required = job.sidecar.key, job.sidecar.version_id, True
        elif named:
            key, required = named_sidecar_key(job.source.key, named, self.options.input_prefix), True
        else:
            key, required = default_sidecar_key(job.source.key), False
        info = self.images.head(bucket, key, version_id)
        if info is None:
            if required:
                raise InvalidSettingsError(
                    f"settings sidecar {key!r} does not exist{f' (version {version_id})' if version_id else ''}: "
                    "upload it before the image"
                )
            return None, None
        check_sidecar_size(key, info.size)
        version_id = info.version_id or version_id
        body = self.images.first_bytes(bucket, key, version_id, info.size)
        ref = SourceRef(bucket=bucket, key=key, version_id=version_id, etag=info.etag, size=info.size)
        return ref, parse_sidecar(key, body)

    def _check_image(self, bucket: str, key: str, version_id: str | None, size: int, what: str) -> str:
        """Size and format checks shared by the source and the end frame; returns the content type."""
        if size <= 0:
            raise JobFailedError(FailureCategory.EMPTY_IMAGE, f"{what} is empty (0 bytes)")
        if size > self.options.max_image_bytes:
            raise JobFailedError(
                FailureCategory.IMAGE_TOO_LARGE, f"{what} is {size} bytes; the limit is {self.options.max_image_bytes}"
            )
        head = self.images.first_bytes(bucket, key, version_id, SNIFF_BYTES)
        image_format = detect_image_format(head)
        if image_format is None:
            unsupported = describe_unsupported(head)
            raise JobFailedError(
                FailureCategory.UNSUPPORTED_FORMAT, unsupported if what == "the image" else f"{what}: {unsupported}"
            )
        return CONTENT_TYPES[image_format]

    def _end_frame(self, bucket: str, settings: JobSettings) -> SourceRef:
        """The object named by metadata `end_frame`: under END_FRAME_PREFIX of the input bucket, checked like the
        source and pinned to the version seen now."""
        key = settings.end_frame_key or ""
        prefix = self.options.end_frame_prefix
        if not key.startswith(prefix) or ".." in key.split("/"):
            message = f"end_frame {key!r} must be a key under {prefix!r} in the input bucket"
            raise JobFailedError(FailureCategory.INVALID_SETTINGS, message)
        info = self.images.head(bucket, key, None)
        if info is None:
            raise JobFailedError(FailureCategory.INVALID_SETTINGS, f"end_frame {key!r} does not exist in the bucket")
        what = f"the end frame {key!r}"
        content_type = self._check_image(bucket, key, info.version_id, info.size, what)
        return SourceRef(
            bucket=bucket,
            key=key,
            version_id=info.version_id,
            etag=info.etag,
            size=info.size,
            content_type=content_type,
        )
