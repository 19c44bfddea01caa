"""The frozen app's entry point: the same command line as `treasury-app` (the window when given no command)."""

from treasury_app.cli import main

main(prog_name="treasury-app")
