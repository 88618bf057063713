"""The local stack: the CDK template's resources in moto, the Lambda handlers in-process.

See `LocalStack` (stack.py) for usage in tests (mode="mock") and for the demo/CLI (mode="server").
"""

from i2v_local.stack.lambdas import FakeLambdaContext, HandlerRouter, Invocation
from i2v_local.stack.pump import SqsPump
from i2v_local.stack.resources import FunctionSpec, Provisioned
from i2v_local.stack.settings import FAST_POLL_POLICY, LocalSettings
from i2v_local.stack.stack import LocalStack, LocalStackError, Mode
from i2v_local.stack.template import Resolver, TemplateError

__all__ = [
    "FAST_POLL_POLICY",
    "FakeLambdaContext",
    "FunctionSpec",
    "HandlerRouter",
    "Invocation",
    "LocalSettings",
    "LocalStack",
    "LocalStackError",
    "Mode",
    "Provisioned",
    "Resolver",
    "SqsPump",
    "TemplateError",
]
