"""Writes and business rules for accounts: one module per area."""
