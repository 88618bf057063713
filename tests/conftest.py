"""Root conftest: shared fixture modules (append to the list; fixtures live in tests/fixtures/)."""

pytest_plugins = ["fixtures.leak_guard", "fixtures.local_stack"]
