"""Reads for filing: cohorts, waves and the rows of the exports."""
