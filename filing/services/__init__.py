"""Writes and business rules for filing: cohorts and waves (cohorts.py), exports (exports/)."""
