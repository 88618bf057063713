"""Fill a directory with the Lambda functions' arm64 dependencies (needs PyPI), for a synth that has none:

    python -m i2v_pipeline_cdk.lambda_deps --target DIR

then `ImageToVideoPipeline(..., lambda_deps_dir=DIR)` or I2V_LAMBDA_DEPS_DIR=DIR.
"""

from i2v_infra.lambda_deps import main

if __name__ == "__main__":
    raise SystemExit(main())
