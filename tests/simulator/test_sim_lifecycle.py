"""Lifecycle and timing, real MP4 output, and image_url fetching."""

from __future__ import annotations

import io
import random
import time

import av
import pytest

from i2v_local.simulator import FRAME_SIZES, Delay, GmiSimulator, Timing
from i2v_local.simulator.timing import TimingSampler

from .conftest import Api, ImageServer


def probe(data: bytes) -> tuple[int, int, int, float]:
    """(width, height, decoded frames, duration seconds) of an MP4."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert container.duration is not None
        return stream.width, stream.height, frames, container.duration / 1_000_000


def test_lifecycle_queued_processing_success(images: ImageServer) -> None:
    with GmiSimulator(timing=Timing.fixed(queued=0.4, processing=0.4), tls=False) as sim:
        api = Api(sim, images.url())
        rid = api.submit()
        seen: list[str] = []
        updated: list[int] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            body = api.get(rid).json()
            if not seen or seen[-1] != body["status"]:
                seen.append(body["status"])
                updated.append(body["updated_at"])
            if body["status"] == "success":
                break
            time.sleep(0.05)
        # `created` and `dispatched` are brief passes (the first tenth of queued and processing time).
        order = ["created", "queued", "dispatched", "processing", "success"]
        assert seen == sorted(seen, key=order.index)
        assert [status for status in seen if status not in ("created", "dispatched")] == [
            "queued",
            "processing",
            "success",
        ]
        assert updated == sorted(updated)
        assert body["outcome"]["video_url"].startswith(f"{sim.base_url}/videos/{rid}.mp4?")


def test_zero_time_job_succeeds_once_rendered(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit()
    assert sim.wait_for_job(rid, 10)
    body = api.get(rid).json()
    assert body["status"] == "success"
    assert sim.jobs[rid].reported == ["success"]


@pytest.mark.parametrize("aspect_ratio", sorted(FRAME_SIZES))
def test_video_is_a_playable_mp4_with_ratio_dimensions(api: Api, aspect_ratio: str) -> None:
    rid = api.submit(aspect_ratio=aspect_ratio)
    body = api.wait_terminal(rid)
    video = api.download(body["outcome"]["video_url"])
    assert video.status_code == 200
    assert video.headers["Content-Type"] == "video/mp4"
    assert int(video.headers["Content-Length"]) == len(video.content)
    width, height, frames, duration = probe(video.content)
    assert (width, height) == FRAME_SIZES[aspect_ratio]
    assert frames == 5 * 10
    assert duration == pytest.approx(5, abs=0.2)


@pytest.mark.parametrize("duration", ["8", "10"])
def test_video_honours_duration(api: Api, duration: str) -> None:
    rid = api.submit(duration=duration, quality="720p")
    body = api.wait_terminal(rid)
    _, _, frames, seconds = probe(api.download(body["outcome"]["video_url"]).content)
    assert frames == int(duration) * 10
    assert seconds == pytest.approx(int(duration), abs=0.2)


def test_video_can_be_downloaded_again_with_a_fresh_url(api: Api) -> None:
    rid = api.submit()
    first = api.wait_terminal(rid)["outcome"]["video_url"]
    second = api.get(rid).json()["outcome"]["video_url"]
    assert first != second  # each GET signs a new URL, like a storage presigner
    assert api.download(first).content == api.download(second).content


def test_video_url_with_bad_signature_is_403(api: Api) -> None:
    rid = api.submit()
    url = api.wait_terminal(rid)["outcome"]["video_url"]
    assert api.download(url[: url.index("X-Goog-Signature=")] + "X-Goog-Signature=forged").status_code == 403


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("forbidden.png", "image_url could not be fetched (HTTP 403)"),
        ("missing.png", "image_url could not be fetched (HTTP 404)"),
        ("junk.png", "did not return a decodable image"),
    ],
)
def test_unfetchable_image_fails_the_job(images: ImageServer, sim: GmiSimulator, name: str, message: str) -> None:
    api = Api(sim, images.url(name))
    body = api.wait_terminal(api.submit())
    assert body["status"] == "failed"
    assert message in body["error"]
    assert body["outcome"] is None
    assert "X-Amz-Signature" not in body["error"]


def test_connection_refused_image_fails_the_job(sim: GmiSimulator, refused_url: str) -> None:
    api = Api(sim, refused_url)
    body = api.wait_terminal(api.submit())
    assert body["status"] == "failed"
    assert body["error"].startswith("image_url could not be fetched (connection error")


def test_image_hosted_by_the_simulator_itself_over_tls(sim: GmiSimulator) -> None:
    from .conftest import make_png

    api = Api(sim, sim.add_image("cat.png", make_png(64, 64)))
    assert api.wait_terminal(api.submit())["status"] == "success"


def test_status_get_stays_fast_while_rendering(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit(duration="10", quality="720p")
    started = time.monotonic()
    api.get(rid)
    assert time.monotonic() - started < 0.5


def test_lognormal_delay_is_clamped_and_reproducible() -> None:
    delay = Delay.lognormal(median=10, sigma=1.0, minimum=2, maximum=30)
    a = [delay.sample(random.Random(7)) for _ in range(3)]
    b = [delay.sample(random.Random(7)) for _ in range(3)]
    assert a == b
    rng = random.Random(1)
    values = [delay.sample(rng) for _ in range(2000)]
    assert min(values) >= 2
    assert max(values) <= 30
    assert sorted(values)[1000] == pytest.approx(10, rel=0.15)


def test_timing_sampler_scales_and_seeds() -> None:
    timing = Timing(processing=Delay.lognormal(60, 0.5), time_scale=0.01, seed=3)
    first = TimingSampler(timing)
    second = TimingSampler(timing)
    draws = [first.processing() for _ in range(5)]
    assert draws == [second.processing() for _ in range(5)]
    assert all(0 < d < 5 for d in draws)
    assert TimingSampler(Timing.zero()).queued() == 0


def _submit_for(api: Api, model_id: str, **payload: object) -> str:
    from i2v.domain import catalog

    model = catalog.get(model_id)
    body = {"model": model_id, "payload": {model.IMAGE_FIELD: api.image_url, "prompt": "slow zoom", **payload}}
    response = api.post(body)
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


def test_a_model_whose_video_follows_the_image_keeps_the_images_shape(api: Api) -> None:
    # The served image is 320x240 (4:3); wan2.6 has no aspect parameter, its output follows the image.
    body = api.wait_terminal(_submit_for(api, "wan2.6-i2v", duration=5))
    width, height, frames, seconds = probe(api.download(body["outcome"]["video_url"]).content)
    assert width / height == pytest.approx(4 / 3, rel=0.03)
    assert (frames, round(seconds)) == (50, 5)


def test_a_models_own_ratio_and_integer_duration_and_the_end_frame_is_fetched(api: Api, images: ImageServer) -> None:
    rid = _submit_for(api, "seedance-2-0-fast-260128", ratio="21:9", duration=4, last_frame=images.url("img.png"))
    body = api.wait_terminal(rid)
    assert body["status"] == "success"
    width, height, _, seconds = probe(api.download(body["outcome"]["video_url"]).content)
    assert width / height == pytest.approx(21 / 9, rel=0.03)
    assert seconds == pytest.approx(4, abs=0.2)


def test_an_end_frame_that_cannot_be_fetched_fails_the_job(api: Api, refused_url: str) -> None:
    body = api.wait_terminal(_submit_for(api, "kling-v3-image-to-video", image_tail=refused_url))
    assert body["status"] == "failed"
