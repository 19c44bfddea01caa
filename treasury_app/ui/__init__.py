"""The desktop window: a face of the services, like `commands/` (nothing here decides)."""
