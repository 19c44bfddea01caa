"""`treasury-app export payouts|summary`: the CSV reports, for scheduled jobs and for finance."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from treasury_app.domain.assets import currencies
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.provider_names import PROVIDER_TITLES
from treasury_app.services.operator_accounts import OperatorAccounts
from treasury_app.services.reports import PeriodBasis, ReportKind, ReportRequest, write_report

from . import open_desk
from .operator_commands import AS_HELP, sign_in

# The spellings a shell can pass for the delimiters a report may use.
DELIMITER_WORDS = {",": ",", ";": ";", "tab": "\t", "|": "|"}
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]


@click.group("export")
def export_group() -> None:
    """CSV reports: every payout, or totals per currency, provider and status. Exact amounts, safe to open in
    a spreadsheet, written whole or not at all, and audited (who, filters, rows, the file's SHA-256)."""


def report_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--from", "start", type=click.DateTime(DATE_FORMATS), metavar="DATE",
                     help="From this day (or moment), UTC, inclusive: 2026-11-01 or 2026-11-01T08:00:00Z."),
        click.option("--to", "end", type=click.DateTime(DATE_FORMATS), metavar="DATE",
                     help="Up to this day (or moment), UTC, exclusive: --from 2026-11-01 --to 2026-12-01 is November."),
        click.option("--by", "basis", type=click.Choice([b.value for b in PeriodBasis]), default=PeriodBasis.CREATED.value,
                     show_default=True, help="Which time the period is of: when a payout was composed, or when it "
                                             "reached its final status."),
        click.option("--status", "statuses", multiple=True, metavar="STATUS",
                     type=click.Choice([s.value for s in PayoutStatus], case_sensitive=False),
                     help="Only payouts in this status; repeat for several."),
        click.option("--provider", type=click.Choice(sorted(PROVIDER_TITLES), case_sensitive=False),
                     help="Only this provider's payouts."),
        click.option("--currency", type=click.Choice(currencies(), case_sensitive=False),
                     help="Only payouts in this currency, e.g. USDT."),
        click.option("--operator", metavar="NAME", help="Only payouts this operator initiated."),
        click.option("--bom", is_flag=True, help="Start the file with the byte-order mark Excel needs for UTF-8."),
        click.option("--delimiter", type=click.Choice(sorted(DELIMITER_WORDS)), default=",", show_default=True,
                     help="Between cells: ';' for spreadsheets of locales that write decimal commas."),
        click.option("-o", "--output", required=True, metavar="FILE",
                     help="The file to write, or - for standard output."),
        click.option("--force", is_flag=True, help="Replace FILE if it exists."),
        click.option("--as", "acting_as", metavar="NAME", required=True, help=AS_HELP + " Needs the viewer role "
                                                                                        "(any role has it)."),
    ]
    for option in reversed(options):
        command = option(command)
    return click.pass_context(command)


@export_group.command("payouts")
@report_options
def export_payouts(ctx: click.Context, **chosen: Any) -> None:
    """One row per payout: its times, ids, destination, exact amounts and fees, status, who initiated and
    approved it, reference and note; oldest first. The first line says what the file holds.

    \b
    Exit codes: 0 written; 1 refused (a permission, a file that exists, a folder that cannot be written: no
    file is left); 2 a wrong option."""
    _export(ctx, ReportKind.PAYOUTS, **chosen)


@export_group.command("summary")
@report_options
def export_summary(ctx: click.Context, **chosen: Any) -> None:
    """Count, amount, fees, net amount and total debited per currency × provider × status, and each
    currency's total (never one total across currencies). Exit codes as for `export payouts`."""
    _export(ctx, ReportKind.SUMMARY, **chosen)


def _export(ctx: click.Context, kind: ReportKind, *, start: datetime | None, end: datetime | None, basis: str,
            statuses: tuple[str, ...], provider: str | None, currency: str | None, operator: str | None,
            bom: bool, delimiter: str, output: str, force: bool, acting_as: str) -> None:
    start, end = _utc(start), _utc(end)
    if start is not None and end is not None and end <= start:
        raise click.BadParameter(f"must be later than --from ({start:%Y-%m-%d %H:%M:%S})", param_hint="'--to'")
    request = ReportRequest(kind=kind, basis=PeriodBasis(basis), start=start, end=end,
                            statuses=tuple(PayoutStatus(s.lower()) for s in statuses), provider=provider,
                            currency=currency, operator=operator, delimiter=DELIMITER_WORDS[delimiter], bom=bom)
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        if output == "-":
            written = write_report(desk.ledger, request, sys.stdout.buffer, acting=acting)
            sys.stdout.buffer.flush()
        else:
            try:
                written = write_report(desk.ledger, request, Path(output), acting=acting, replace=force)
            except InvalidFieldError as refused:
                if refused.field == "output" and not force and Path(output).exists():
                    raise InvalidFieldError("output", f"{refused.message} (--force)") from refused
                raise
    where = "standard output" if written.path is None else str(written.path)
    rows = f"{written.rows:,} payout{'s' if written.rows != 1 else ''}" if kind is ReportKind.PAYOUTS \
        else f"{written.rows:,} summary rows"
    click.echo(f"Wrote {rows} to {where} ({written.size:,} bytes, SHA-256 {written.sha256}); the export is in "
               "the audit trail.", err=written.path is None)


def _utc(moment: datetime | None) -> datetime | None:
    """click reads dates without a zone; a report's dates are UTC (said in --help and in the file)."""
    return None if moment is None else moment.replace(tzinfo=UTC)
