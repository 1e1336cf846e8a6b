"""Temporal activities: every side effect of grantflow (records, notices, closures, broadcasts)."""
