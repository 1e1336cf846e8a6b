"""Revisions of the records schema, oldest first; each names the one before it (`down_revision`)."""
