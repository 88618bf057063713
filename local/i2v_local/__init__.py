"""The local harness: the GMI simulator, the local stack, the soak, and `i2v demo` / `local up` / `simulate`."""
