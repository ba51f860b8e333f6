"""Writes and business rules for claims, one module per area (intake, evidence, estimates, review, ...)."""
