"""The `i2v` command line (`i2v_cli.app`): the commands that act on a deployment, local or on AWS."""
