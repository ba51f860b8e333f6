"""HTTP views for accounts: one module per area."""
