"""The dashboard, the first screen after sign-in: counts that open the payouts behind them, balances, provider
reachability and the chart of daily volume."""
