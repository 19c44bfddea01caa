"""`python -m treasury_app` runs the same command line as `treasury-app`."""

from treasury_app.cli import main

main(prog_name="treasury-app")
