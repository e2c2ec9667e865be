"""A client of the embedded server for the tests: attach, report, wait for a line, detach."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

from orderreport.embedded import EmbeddedServer


def main() -> None:
    home = Path(sys.argv[1])
    with EmbeddedServer(home) as url:
        conn = psycopg.connect(host=str(url.query["host"]), user=url.username, dbname=url.database)
        pid = conn.execute("SELECT pg_postmaster_start_time()::text").fetchone()
        conn.close()
        print(f"ready {pid[0] if pid else ''}", flush=True)
        sys.stdin.readline()
    print("detached", flush=True)


if __name__ == "__main__":
    main()
