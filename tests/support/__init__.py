"""Helpers shared by test modules (import as `from support.leaks import assert_no_secrets`)."""
