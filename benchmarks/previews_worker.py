"""One preview of a stored video in a fresh process, so its peak RSS is the previewing process's own.

    python -m benchmarks.previews_worker BUCKET KEY
Prints one JSON line: seconds, RSS before and peak, ranged GETs and bytes read from S3, what was made.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.copy_worker import _reset_peak, _status


def main(argv: list[str]) -> int:
    bucket, key = argv
    from i2v.adapters.aws import client
    from i2v.adapters.media import render_previews
    from i2v.adapters.stored_video import StoredVideos

    # What a warm previews function holds before the work: modules (PyAV, Pillow) and the S3 client.
    client("s3").list_objects_v2(Bucket=bucket, MaxKeys=1)
    _reset_peak()
    before = _status("VmRSS")
    started = time.perf_counter()
    video = StoredVideos().open(bucket, key)
    with video:
        made = render_previews(video)
    seconds = time.perf_counter() - started
    found = {
        "seconds": seconds,
        "rss_before": before,
        "rss_peak": _status("VmHWM"),
        "requests": video.requests,
        "bytes_fetched": video.bytes_fetched,
        "size": video.size,
        "poster_at": made.poster_seconds,
        "preview_bytes": len(made.animated.data),
        "frames": made.frame_count,
    }
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
