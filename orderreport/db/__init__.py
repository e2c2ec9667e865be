"""From settings to a bounded psycopg connection, knowing nothing of shops: connect.py
(connections and sessions, advisory locks), connection.py (the connection and cursor
classes: a watchdog around every wait, the SQL log), limits.py (every bound, and what a
failure says), embedded.py (the embedded server). May import config and the leaves.

The session API is re-exported here, so call sites read `db.connect`, `db.session`."""

from orderreport.db.connect import (
    DAILY_LOCK_KEY as DAILY_LOCK_KEY,
)
from orderreport.db.connect import (
    advisory_unlock as advisory_unlock,
)
from orderreport.db.connect import (
    bounds_of as bounds_of,
)
from orderreport.db.connect import (
    connect as connect,
)
from orderreport.db.connect import (
    failure as failure,
)
from orderreport.db.connect import (
    open_connection as open_connection,
)
from orderreport.db.connect import (
    revision as revision,
)
from orderreport.db.connect import (
    schema_revision as schema_revision,
)
from orderreport.db.connect import (
    server_tz as server_tz,
)
from orderreport.db.connect import (
    session as session,
)
from orderreport.db.connect import (
    try_advisory_lock as try_advisory_lock,
)
from orderreport.db.connect import (
    user_path as user_path,
)
from orderreport.db.connection import (
    waiting as waiting,
)
