"""Defaults and bounds of the commands' options.

Here, apart from the modules that use them, so that the command line can build its
options and `--help` without importing the core (SQLAlchemy, psycopg, Rich's progress).
"""

DEFAULT_MAX_CATCH_UP = 31  # days one `daily` run catches up
# Already-stored days every run recomputes; README ("Late orders") says why 7. 0: none.
DEFAULT_RESTATE = 7
MAX_RESTATE = 366
DEFAULT_LIST = 20  # runs `orderreport runs` lists
MAX_LIST = 1000
