"""The command line's exit codes, one meaning each, so that a script can tell refused, failed and unknown apart.

0 done; 1 refused by the app (validation, permission, policy, approval missing: any TreasuryError, nothing was
sent; also a payout execute that could not connect to the provider at all, so nothing left); 2 wrong usage
(click's own, and a choice the provider never takes); 3 failed (the provider refused the payout, or it ended
failed or cancelled); 4 unknown (sent, outcome not known yet: `treasury-app refresh` reconciles it by its key);
5 the team ledger's server could not be reached or dropped the connection (the change under way was not saved,
or, if the connection went during its commit and the server could not be asked, may have been: the message
says which); run the command again once the server answers.
"""

from __future__ import annotations

from enum import IntEnum

from treasury_app.domain.payout_lifecycle import PayoutStatus


class ExitCode(IntEnum):
    DONE = 0
    REFUSED = 1
    USAGE = 2
    FAILED = 3
    UNKNOWN = 4
    LEDGER_UNREACHABLE = 5


def exit_code_for(status: PayoutStatus) -> ExitCode:
    """The exit code of a command that sent a payout, by the status it left the payout in."""
    if status in (PayoutStatus.FAILED, PayoutStatus.CANCELLED):
        return ExitCode.FAILED
    if status in (PayoutStatus.UNKNOWN, PayoutStatus.SUBMITTING):
        # Submitting after execute: another process holds the claim and will record the answer.
        return ExitCode.UNKNOWN
    return ExitCode.DONE
