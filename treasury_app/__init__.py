"""Treasury Desk: send crypto payouts through payout providers, with approvals and a local ledger."""

__version__ = "0.1.0"
