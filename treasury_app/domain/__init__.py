"""Pure rules of the treasury: money, assets, addresses, the payout lifecycle. No I/O, no Qt."""
