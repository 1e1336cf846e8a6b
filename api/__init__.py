"""The HTTP API (FastAPI): every action of the command line through the same service layer, RFC 9457 problems."""
