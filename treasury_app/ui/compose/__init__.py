"""Compose, estimate and confirm a payout; send one that is ready."""
