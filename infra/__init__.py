"""Configuration and infrastructure every layer may use: settings, structured logs, the Temporal connection."""
