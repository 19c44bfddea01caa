"""`python -m treasury_app.sandbox` runs the same command as `treasury-app sandbox`."""

from treasury_app.sandbox.command_line import sandbox_command

sandbox_command(prog_name="treasury-app sandbox")
