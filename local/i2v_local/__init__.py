"""Local tooling: the GMI simulator, the local stack and the i2v CLI."""
