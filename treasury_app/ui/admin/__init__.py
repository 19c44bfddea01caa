"""Administration: operators, policy and provider profiles, for admins (one module per tab)."""
