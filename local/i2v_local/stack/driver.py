"""Driving the pipeline of a running local stack: upload an image, find its job, executions and record.

Used by the tests and handy for the demo/CLI: everything goes through the stack's AWS APIs.
"""

from __future__ import annotations

import io
import time
from typing import Any

from PIL import Image

from i2v.adapters.repository import JobRepository
from i2v.domain.record import JobRecord
from i2v.domain.source import SourceObject, job_id_for
from i2v_local.stack.stack import LocalStack


def png_bytes(width: int = 64, height: int = 48, shade: int = 0) -> bytes:
    """A small valid PNG (GMI and the simulator decode what they receive)."""
    image = Image.new("RGB", (width, height), (shade % 256, 120, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class PipelineDriver:
    """Upload, find the job, read its record and executions, over a running local stack."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.s3 = stack.client("s3")
        self.input_bucket = stack.outputs["InputBucketName"]
        self.output_bucket = stack.outputs["OutputBucketName"]
        self.state_machine_arn = stack.outputs["StateMachineArn"]
        self.repo = JobRepository(stack.outputs["JobsTableName"])

    def upload(self, key: str, body: bytes | None = None, **metadata: str) -> str:
        """PUT an image under the input bucket; returns the job id the submit function will derive."""
        response = self.s3.put_object(
            Bucket=self.input_bucket, Key=key, Body=png_bytes() if body is None else body, Metadata=metadata
        )
        source = SourceObject(
            bucket=self.input_bucket,
            key=key,
            version_id=response.get("VersionId"),
            etag=response["ETag"].strip('"'),
            sequencer="0",
            size=0,
        )
        return job_id_for(source)

    def put_end_frame(self, key: str = "end-frames/last.png", body: bytes | None = None) -> str:
        """PUT an end frame (under the end-frame prefix, so it starts no job); returns its key for `end_frame`."""
        self.s3.put_object(Bucket=self.input_bucket, Key=key, Body=png_bytes(shade=90) if body is None else body)
        return key

    def job(self, job_id: str) -> JobRecord:
        record = self.repo.get(job_id)
        assert record is not None, f"no record for job {job_id}"
        return record

    def executions(self) -> list[dict[str, Any]]:
        sfn = self.stack.client("stepfunctions")
        return list(sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"])

    def wait_for_execution(self, timeout: float = 10.0) -> dict[str, Any]:
        """Pump until the first execution exists (it starts when submit runs)."""
        deadline = time.monotonic() + timeout
        while not self.executions():
            assert time.monotonic() < deadline, "no execution started"
            self.stack.pump()
            time.sleep(0.05)
        return self.executions()[0]

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events = self.stack.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
        return list(events)

    def sweep(self) -> dict[str, Any]:
        """Run the sweeper once, as its schedule (not emulated here) does every few minutes in AWS."""
        result = self.stack.router.invoke(self.stack.function("Sweeper"), {})
        assert not result.error, f"the sweeper failed: {result.payload}"
        return dict(result.payload)
