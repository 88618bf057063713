"""`python -m i2v_cli`: the `i2v` command."""

from i2v_cli.app import main

main()
