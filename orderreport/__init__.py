"""orderreport: exact daily order reports from a shop's PostgreSQL database."""

# The one place the version is written (pyproject.toml reads it from here): every command
# would otherwise pay for importlib.metadata, a twentieth of a second, to print it.
__version__ = "0.1.0"
