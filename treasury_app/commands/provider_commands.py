"""`treasury-app provider …`: where to reach Cryptomus and Pay3 and as whom; secrets go to the OS keyring only."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import click

from treasury_app.commands import open_desk
from treasury_app.commands.operator_commands import AS_HELP, sign_in
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import format_amount
from treasury_app.providers.cryptomus import DEFAULT_BASE_URL as CRYPTOMUS_BASE_URL
from treasury_app.providers.interface import PayoutOption
from treasury_app.providers.kinds import PROVIDER_KINDS
from treasury_app.providers.pay3 import DEFAULT_CURRENCIES as PAY3_DEFAULT_CURRENCIES
from treasury_app.providers.pay3 import DEFAULT_PAYER_EMAIL as PAY3_DEFAULT_PAYER_EMAIL
from treasury_app.security.credentials import CredentialStore
from treasury_app.services.compose_checks import offered_options
from treasury_app.services.desk import Desk
from treasury_app.services.operator_accounts import OperatorAccounts
from treasury_app.services.provider_administration import ProviderAdministration
from treasury_app.services.provider_directory import ProviderDirectory
from treasury_app.services.provider_profiles import ProfileSummary, ProviderCheck, ProviderProfiles

from .payout_formatting import connection_text

# A check that finds the provider unreachable or the credentials refused is a refusal, like any app error.
EXIT_REFUSED = 1

@click.group("provider")
def provider_group() -> None:
    """Provider profiles: where to reach Cryptomus and Pay3 and as whom. Secrets go to the OS keyring only."""


@provider_group.group("set")
def provider_set() -> None:
    """Set up or replace a provider profile. The secret is read from standard input (its first line) or,
    in a terminal, from a hidden prompt; never give it on the command line."""


@provider_set.command("cryptomus")
@click.option("--base-url", default=CRYPTOMUS_BASE_URL, show_default=True,
              help="https URL of the API (plain http only to this computer, e.g. the sandbox).")
@click.option("--merchant", required=True, help="The merchant UUID from the Cryptomus dashboard.")
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def provider_set_cryptomus(ctx: click.Context, base_url: str, merchant: str, acting_as: str) -> None:
    """Cryptomus: merchant UUID here, the payout API key on standard input or at the prompt."""
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        summary = provider_administration(desk).set_cryptomus(
            acting=acting, merchant=merchant, base_url=base_url,
            payout_key=lambda: read_secret("Cryptomus payout API key"))
    echo_profile_saved(summary)


@provider_set.command("pay3")
@click.option("--base-url", required=True, help="Your Pay3 host, e.g. https://yourname.pay3.app.")
@click.option("--client-id", required=True, help="The client id Pay3 gave you.")
@click.option("--currency", "currencies", multiple=True, metavar="CODE=CUR:NET",
              help="A Pay3 currency code and the asset it pays, e.g. USDT-TRON=USDT:TRON; repeat for each. "
                   "Given, they replace the list; left out, the profile keeps its list (a new one: "
                   f"{', '.join(PAY3_DEFAULT_CURRENCIES)}, the sandbox's).")
@click.option("--payer-email", default=None,
              help="The e-mail Pay3 records as the payout's user. Left out, the profile keeps its own (a new one: "
                   f"the placeholder {PAY3_DEFAULT_PAYER_EMAIL}).")
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def provider_set_pay3(ctx: click.Context, base_url: str, client_id: str, currencies: tuple[str, ...],
                      payer_email: str | None, acting_as: str) -> None:
    """Pay3: client id here, the API secret on standard input or at the prompt."""
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        summary = provider_administration(desk).set_pay3(
            acting=acting, base_url=base_url, client_id=client_id, currencies=currencies or None, payer_email=payer_email,
            api_secret=lambda: read_secret("Pay3 API secret"))
    echo_profile_saved(summary)


@provider_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def provider_show(ctx: click.Context, as_json: bool) -> None:
    """The provider profiles set up in this data folder (never their secrets)."""
    with open_desk(ctx) as desk:
        summaries = provider_profiles(desk).summaries()
    if as_json:
        click.echo(json.dumps([profile_as_dict(s) for s in summaries], indent=2))
        return
    if not summaries:
        click.echo("No provider is set up. Try: treasury-app provider set cryptomus --help")
    for summary in summaries:
        echo_profile(summary)


@provider_group.command("check")
@click.argument("name", type=click.Choice(sorted(PROVIDER_KINDS)))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def provider_check(ctx: click.Context, name: str, as_json: bool) -> None:
    """Is the provider reachable, are the credentials accepted, and what are the balances? Exit 1 if not OK."""
    with open_desk(ctx) as desk:
        report = asyncio.run(provider_profiles(desk).check(name))
    if as_json:
        click.echo(json.dumps(check_as_dict(report), indent=2))
    else:
        for line in report.report_lines():
            click.echo(line)
        if report.problem:
            click.echo(f"Problem:      {report.problem}", err=True)
    if not report.ok:
        sys.exit(EXIT_REFUSED)


@provider_group.command("assets")
@click.argument("name", type=click.Choice(sorted(PROVIDER_KINDS)))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def provider_assets(ctx: click.Context, name: str, as_json: bool) -> None:
    """What the provider can pay out: asset, the provider's code, availability, limits and fee rule. With no
    profile set up, the sandbox's (as the payout commands use it)."""
    with open_desk(ctx) as desk:
        directory = ProviderDirectory(desk.ledger.settings, only=[name])
        options = asyncio.run(_payout_options(directory, name))
    if as_json:
        click.echo(json.dumps([option_as_dict(o) for o in options], indent=2))
        return
    click.echo(connection_text(directory.connection(name), name))
    click.echo(f"{'ASSET':<24} {'CODE':<20} {'OPEN':<5} {'MIN':>12} {'MAX':>16}  FEE")
    for option in options:
        click.echo(f"{option.asset.code:<24} {option.wire_code:<20} {'yes' if option.is_available else 'no':<5} "
                   f"{_amount_or_dash(option.min_amount):>12} {_amount_or_dash(option.max_amount):>16}  "
                   f"{fee_rule_text(option)}")


@provider_group.command("remove")
@click.argument("name", type=click.Choice(sorted(PROVIDER_KINDS)))
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def provider_remove(ctx: click.Context, name: str, acting_as: str) -> None:
    """Forget a provider profile and delete its secret from the keyring."""
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        removed = provider_administration(desk).remove(name, acting=acting)
    click.echo(f"{name}: profile and secret removed" if removed else f"{name}: no profile was set up")


async def _payout_options(directory: ProviderDirectory, name: str) -> Sequence[PayoutOption]:
    async with directory:
        return await offered_options(directory.providers[name])


def provider_profiles(desk: Desk) -> ProviderProfiles:
    return ProviderProfiles(desk.ledger.settings, CredentialStore())


def provider_administration(desk: Desk) -> ProviderAdministration:
    return ProviderAdministration(desk.ledger, CredentialStore())


def read_secret(label: str) -> str:
    """The first line of standard input, or a hidden prompt in a terminal; surrounding spaces removed."""
    if sys.stdin is None:
        raise InvalidFieldError("secret", f"no {label} was given: there is no standard input to read it from")
    # A prompt only where a person can answer it; a pipe gives its first line (the rest is never read).
    typed = click.prompt(label, hide_input=True, err=True) if sys.stdin.isatty() else sys.stdin.readline()
    secret = str(typed).strip()
    if not secret:
        raise InvalidFieldError("secret", f"no {label} was given: pipe it on standard input or type it at the prompt")
    return secret


def echo_profile_saved(summary: ProfileSummary) -> None:
    echo_profile(summary)
    click.echo(f"Saved. Check it with: treasury-app provider check {summary.name}")


def echo_profile(summary: ProfileSummary) -> None:
    badge = "  [SANDBOX]" if summary.is_sandbox else ""
    click.echo(f"{summary.title} ({summary.name}){badge}")
    click.echo(f"  base URL:  {summary.base_url}")
    click.echo(f"  account:   {summary.account}")
    for key, value in summary.settings.items():
        click.echo(f"  {key + ':':<10} {setting_text(value)}")
    click.echo(f"  {summary.secret_label}: in the keyring ('{summary.secret.service}' / "
               f"'{summary.secret.username}')")


def setting_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def profile_as_dict(summary: ProfileSummary) -> dict[str, Any]:
    return {"name": summary.name, "base_url": summary.base_url, "account": summary.account,
            "sandbox": summary.is_sandbox, "settings": dict(summary.settings),
            "secret": {"service": summary.secret.service, "username": summary.secret.username}}


def check_as_dict(report: ProviderCheck) -> dict[str, Any]:
    return {"provider": report.name, "reachable": report.reachable,
            "credentials_accepted": report.credentials_accepted, "ok": report.ok,
            "balances": {b.currency: format_amount(b.amount) for b in report.balances},
            "balances_note": report.balances_note, "problem": report.problem}


def option_as_dict(option: PayoutOption) -> dict[str, Any]:
    def text(amount: Decimal | None) -> str | None:
        return None if amount is None else format_amount(amount)

    return {"asset": option.asset.code, "currency": option.asset.currency, "network": option.asset.network.code,
            "code": option.wire_code, "available": option.is_available, "min_amount": text(option.min_amount),
            "max_amount": text(option.max_amount), "fee_fixed": text(option.fee_fixed),
            "fee_percent": text(option.fee_percent)}


def fee_rule_text(option: PayoutOption) -> str:
    if option.fee_fixed is None and option.fee_percent is None:
        return "given by the estimate"
    fixed = format_amount((option.fee_fixed or Decimal(0)).normalize())
    percent = format_amount((option.fee_percent or Decimal(0)).normalize())
    return f"{fixed} {option.asset.currency} + {percent} %"


def _amount_or_dash(amount: Decimal | None) -> str:
    return "-" if amount is None else format_amount(amount.normalize())
