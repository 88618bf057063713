"""One video copy in a fresh process, so its peak RSS is the completing process's own (benchmark 2).

    python -m benchmarks.copy_worker ours|baseline SOURCE BUCKET KEY
SOURCE is the video URL (ours) or a local file (baseline). Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _status(field: str) -> int:
    """VmRSS / VmHWM of this process in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def _reset_peak() -> None:
    # Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS.
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        pass


def main(argv: list[str]) -> int:
    mode, source, bucket, key = argv
    import boto3
    import requests

    from i2v.adapters.aws import client
    from i2v.adapters.storage import VideoStore
    from i2v.adapters.video_source import CheckedStream, open_video
    from i2v.config import CompleteEnv

    # Everything a warm complete function holds before the copy: modules, the S3 client, a session.
    s3 = client("s3") if mode == "ours" else boto3.client("s3")
    s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    session = requests.Session()
    part_size = CompleteEnv.model_fields["video_part_size_bytes"].default
    store = VideoStore(part_size=part_size)
    _reset_peak()
    before = _status("VmRSS")
    started = time.perf_counter()
    if mode == "ours":
        video = open_video(source, ("127.0.0.1",), True, session)
        stream = CheckedStream(video.response.raw, video.content_length, 4 * 1024**3)
        with video.response:
            store.upload(stream, bucket, key, "video/mp4", {"job-id": "bench"})
        copied = stream.received
    else:
        s3.upload_file(source, bucket, key, ExtraArgs={"ContentType": "video/mp4"})
        copied = os.path.getsize(source)
    seconds = time.perf_counter() - started
    peak = _status("VmHWM")
    stored = int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    print(json.dumps({"bytes": copied, "stored": stored, "seconds": seconds, "rss_before": before, "rss_peak": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
