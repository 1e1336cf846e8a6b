"""Audit: a call's and its applications' lives rebuilt from Temporal histories, replayed, verified and reported."""
