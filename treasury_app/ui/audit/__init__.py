"""The Audit trail screen: its paged model and its dialog."""
