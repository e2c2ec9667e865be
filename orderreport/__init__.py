"""orderreport: exact daily order reports from a shop's PostgreSQL database."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("orderreport")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
