"""Issue 10: `i2v demo --model M` leaves a playable MP4 for every catalog model, with the model's aspect ratio
(or the image's, for models whose video follows it) and its default duration. One end-to-end run per model
through one local stack (the demo's own code path, given a running stack); `i2v demo --model` itself runs in
test_demo.py (the demo starts its own stack, which cannot share the process with this module's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from fixtures.cli import run
from i2v.domain import catalog
from i2v_local.demo import SAMPLE_IMAGE, lambda_output_to_file, run_demo
from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.simulator.video import frame_size
from i2v_local.stack import LocalSettings, LocalStack

pytestmark = pytest.mark.xdist_group(__name__)
FPS = 4  # a few frames per second keeps 13 renders fast; the duration is still the model's


@pytest.fixture(scope="module")
def demo_pipeline(cdk_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    log = tmp_path_factory.mktemp("demo-models") / "lambda.log"
    patcher = pytest.MonkeyPatch()
    patcher.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with GmiSimulator(timing=Timing.zero(), fps=FPS) as sim:
        settings = LocalSettings.for_simulator(sim, gmi_timeout_seconds=2.0)
        with LocalStack(cdk_template, settings, mode="server") as stack, lambda_output_to_file(log):
            stack.start_background(interval=0.1)
            yield stack, sim
    patcher.undo()


def _expected_shape(model_id: str) -> tuple[tuple[int, int], int]:
    settings = catalog.get(model_id).model_validate({"prompt": "p"})
    with Image.open(SAMPLE_IMAGE) as sample:
        return frame_size(settings.video_aspect(), sample), settings.duration_seconds()


@pytest.mark.parametrize("model_id", catalog.ids())
def test_demo_on_every_catalog_model_leaves_a_playable_mp4(model_id: str, demo_pipeline: Any, tmp_path: Path) -> None:
    result = run_demo(None, "the beam sweeps", tmp_path, None, None, quiet=True, model=model_id, pipeline=demo_pipeline)
    assert result["job"]["status"] == "succeeded"
    assert result["job"]["model"] == model_id
    assert result["event"]["detail"]["job_id"] == result["job"]["job_id"]
    (width, height), seconds = _expected_shape(model_id)
    video = Path(result["video"]["path"])
    assert model_id.lower().replace(".", "-") in video.name.lower()
    with av.open(str(video)) as container:  # opened and fully decoded as a player would
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.width, stream.height) == (width, height)
        assert frames == seconds * FPS
        assert container.duration is not None
        assert container.duration / 1_000_000 == pytest.approx(seconds, abs=0.5)


def test_demo_refuses_a_model_outside_the_catalog(capsys: Any) -> None:
    code, _, err = run(capsys, "demo", "--model", "sora-9")
    assert code == 1
    assert "unknown model 'sora-9'" in err
    assert "wan2.6-i2v" in err
