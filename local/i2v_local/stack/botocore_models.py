"""One parse of botocore's service models per process while the local stack runs.

Every boto3 Session makes its own botocore Loader, which reads and parses each service's JSON model again (S3's
and DynamoDB's are hundreds of KB). A Lambda pays that once per cold start; the local stack forgets the functions'
clients for every stack, and a scenario test spent about a quarter of its CPU parsing the same files again. Here
every Session gets the one Loader of its search path, as every client of one Session always shares its Session's.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

import botocore.session
from botocore.loaders import Loader, create_loader


class _SearchPaths(list[str]):
    # boto3 appends its own data directory to the Loader of each Session it makes: once is enough.
    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@functools.cache
def _shared_loader(search_path_string: str | None = None) -> Loader:
    loader = create_loader(search_path_string)
    # Loader has no setter for the list its `search_paths` returns, which is the list boto3 appends to.
    setattr(loader, "_search_paths", _SearchPaths(loader.search_paths))  # noqa: B010
    return loader


def models_parsed_once() -> AbstractContextManager[Any]:
    patcher: AbstractContextManager[Any] = mock.patch.object(botocore.session, "create_loader", _shared_loader)
    return patcher
