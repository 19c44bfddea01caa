"""`treasury-app sandbox`: serve the simulated providers from a terminal until Ctrl-C or SIGTERM.

`cli.py` registers `sandbox_command`; `python -m treasury_app.sandbox` runs it on its own.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from .config import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_HOST,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
    DEFAULT_PORT,
    SandboxConfig,
    is_loopback_host,
    random_failure_shares,
)
from .faults import FAULT_SYNTAX_HELP, FaultRule, FaultSpecError, parse_fault
from .server import ACCESS_LOG, SandboxRefused, run_forever
from .status_plans import CANCELLED_DECIMALS, FAILING_DECIMALS

EXIT_REFUSED = 1
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_OUTCOMES = f"""\b
OUTCOMES  every payout succeeds, except test amounts (whatever the seed):
  decimals ending in {FAILING_DECIMALS}  fail      e.g. 10.{FAILING_DECIMALS} USDT, 0.000{FAILING_DECIMALS} BTC \
(Cryptomus fail, Pay3 FAILED)
  decimals ending in {CANCELLED_DECIMALS}  cancelled e.g. 10.{CANCELLED_DECIMALS} USDT (Cryptomus cancel, Pay3 ABANDONED)
  --failure-rate 0.1 makes one payout in ten fail at random, by the seed.

"""

_EPILOG = _OUTCOMES + "\b\nFAULTS  --fault PROVIDER:ENDPOINT:KIND[=VALUE][:COUNT]   (repeatable)\n" + FAULT_SYNTAX_HELP + """

\b
Examples:
  --fault cryptomus:create:500:1         the next create answers HTTP 500
  --fault pay3:execute:commit-drop       every execute pays, then hangs up
  --fault any:any:latency=0.8            every provider call waits 0.8 s

\b
Control endpoints (sandbox only, same port):
  GET  /_sandbox/payouts[?provider=]     every payout either provider created
  GET  /_sandbox/balances                both providers' balances
  GET|POST|DELETE /_sandbox/faults       list, add {"faults": [...], "replace": false}, clear
  POST /_sandbox/switches                {"cryptomus_forbidden": true, "cryptomus_terminal_not_found": true}
  POST /_sandbox/outcomes                {"provider": "pay3", "id": "<requestId>", "outcome": "FAILED"}
  POST /_sandbox/advance                 {"seconds": 60}
  POST /_sandbox/reset                   initial balances, no payouts, configured faults
"""


def _parse_faults(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[FaultRule, ...]:
    try:
        return tuple(parse_fault(value) for value in values)
    except FaultSpecError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


@click.command("sandbox", context_settings=CONTEXT_SETTINGS, epilog=_EPILOG)
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on; loopback only unless --allow-remote.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="TCP port; 0 picks a free one (the banner shows which).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Decides every payout's timing (and, with --failure-rate, which fail); the same seed replays "
                   "the same run.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Pace of payout statuses: 50 makes a minute take about a second.")
@click.option("--failure-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True, metavar="SHARE",
              help="Share of payouts that fail at random, drawn by the seed (test amounts fail regardless).")
@click.option("--cryptomus-merchant", default=DEFAULT_CRYPTOMUS_MERCHANT, show_default=True, metavar="UUID",
              help="Cryptomus `merchant` header the sandbox accepts.")
@click.option("--cryptomus-payout-key", default=DEFAULT_CRYPTOMUS_PAYOUT_KEY, show_default=True, metavar="KEY",
              help="Cryptomus payout API key that `sign` is checked with.")
@click.option("--pay3-client-id", default=DEFAULT_PAY3_CLIENT_ID, show_default=True, metavar="ID")
@click.option("--pay3-api-secret", default=DEFAULT_PAY3_API_SECRET, show_default=True, metavar="SECRET")
@click.option("--pay3-token-lifetime", type=click.IntRange(min=1), default=3600, show_default=True,
              metavar="SECONDS", help="Lifetime of Pay3 access tokens.")
@click.option("--fault", "faults", multiple=True, callback=_parse_faults,
              metavar="PROVIDER:ENDPOINT:KIND[=VALUE][:COUNT]", help="Inject a fault (see FAULTS below).")
@click.option("--cryptomus-forbidden", is_flag=True, help='Refuse every payout with "You are forbidden".')
@click.option("--cryptomus-terminal-not-found", is_flag=True,
              help='Refuse every payout with "The terminal was not found" (maintenance).')
@click.option("--allow-remote", is_flag=True,
              help="Allow a non-loopback --host. The credentials are published: anyone who reaches it can use it.")
@click.option("--quiet", is_flag=True, help="Do not log each request on stderr.")
def sandbox_command(quiet: bool, **options: Any) -> None:
    """Serve simulated Cryptomus and Pay3 payout APIs over HTTP: no account, no real money.

    Both providers share one base URL (their paths do not overlap), so a client changes only its base URL.
    """
    config = config_from_options(**options)
    if not quiet:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
        ACCESS_LOG.setLevel(logging.INFO)
    try:
        run_forever(config, on_ready=lambda url: _print_banner(config, url), access_log=not quiet)
    except (OSError, SandboxRefused) as error:
        click.echo(f"Error: cannot serve on {config.host}:{config.port}: {error}", err=True)
        sys.exit(EXIT_REFUSED)
    click.echo("Sandbox stopped.")


def config_from_options(*, host: str, port: int, seed: int, speed: float, failure_rate: float,
                        cryptomus_merchant: str, cryptomus_payout_key: str, pay3_client_id: str, pay3_api_secret: str,
                        pay3_token_lifetime: int, faults: tuple[FaultRule, ...], cryptomus_forbidden: bool,
                        cryptomus_terminal_not_found: bool, allow_remote: bool) -> SandboxConfig:
    """What `treasury-app sandbox` serves for its options (all but --quiet, which only changes the log)."""
    if not is_loopback_host(host) and not allow_remote:
        raise click.BadParameter(
            f"{host} is not a loopback address. The sandbox's credentials are published; add --allow-remote "
            "to listen beyond this computer anyway.", param_hint="--host")
    return SandboxConfig(
        host=host, port=port, allow_remote=allow_remote, seed=seed, speed=speed,
        cryptomus_merchant=cryptomus_merchant, cryptomus_payout_key=cryptomus_payout_key,
        cryptomus_forbidden=cryptomus_forbidden, cryptomus_terminal_not_found=cryptomus_terminal_not_found,
        pay3_client_id=pay3_client_id, pay3_api_secret=pay3_api_secret, pay3_token_lifetime=pay3_token_lifetime,
        faults=faults, **random_failure_shares(failure_rate),
    )


def _print_banner(config: SandboxConfig, base_url: str) -> None:
    lines = [
        "Treasury Desk SANDBOX: simulated providers, no real money.",
        "",
        f"Cryptomus  base URL     {base_url}",
        f"           merchant     {config.cryptomus_merchant}",
        f"           payout key   {config.cryptomus_payout_key}",
        f"Pay3       base URL     {base_url}",
        f"           client id    {config.pay3_client_id}",
        f"           api secret   {config.pay3_api_secret}",
        f"           currencies   {', '.join(c.code for c in config.pay3_currencies)}",
        f"Control    {base_url}/_sandbox/payouts (and /balances, /faults, /switches, /outcomes, /advance, /reset)",
        f"Seed {config.seed}, speed {config.speed:g}x.",
        f"Outcomes   every payout succeeds, except amounts whose decimals end in {FAILING_DECIMALS} (fail) or "
        f"{CANCELLED_DECIMALS} (cancelled)",
    ]
    if config.pay3_fail_share:
        lines.append(f"           and {config.pay3_fail_share:.0%} fail at random (by the seed)")
    lines += [f"Fault      {rule.spec()}" for rule in config.faults]
    switched = [name for name, on in (("forbidden", config.cryptomus_forbidden),
                                      ("terminal not found", config.cryptomus_terminal_not_found)) if on]
    if switched:
        lines.append(f"Cryptomus  refuses every payout: {', '.join(switched)}")
    lines.append("Stop with Ctrl-C.")
    click.echo("\n".join(lines))
