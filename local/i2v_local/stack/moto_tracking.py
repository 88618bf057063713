"""moto's DynamoDB models left untracked while the local stack runs, so what moto copies is freed.

moto's BaseModel.__new__ appends every model instance to its class's `instances_tracked` (for its dashboard
and its reset) and drops them only on reset. TransactWriteItems deep-copies each table it touches as its
rollback backup: a Table and an Item per stored item, each tracked, so every transaction kept a whole copy of
the jobs table alive. Memory grew with jobs x transactions: the 1,000-line manifest soak reached 21 GB and
was OOM-killed. The local stack now backs up only the items a transaction names (dynamodb_isolation), but tracked,
every Item moto makes (each write's, each backup's, each update's copy of the old item) would still live until
reset. Untracked, a copy lives as long as it is used (the backend's tables hold what is stored). Other services
stay tracked: S3's reset closes the temporary file of every FakeKey it tracked.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

from moto.core.common_models import BaseModel

UNTRACKED_SERVICES = frozenset({"dynamodb"})


def _service(cls: type) -> str:
    # moto files a model class under the package after "moto." (InstanceTrackerMeta does the same).
    parts = cls.__module__.split(".")
    return parts[1] if len(parts) > 1 else ""


def dynamodb_untracked() -> AbstractContextManager[Any]:
    tracked_new = BaseModel.__new__

    def new(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
        if _service(cls) in UNTRACKED_SERVICES:
            return super(BaseModel, cls).__new__(cls)
        return tracked_new(cls, *args, **kwargs)

    patcher: AbstractContextManager[Any] = mock.patch.object(BaseModel, "__new__", staticmethod(new))
    return patcher
