"""The command line's command groups (typer + rich); `cli.py` assembles them into one application."""
