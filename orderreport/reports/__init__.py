"""Take a connection, return plain data: the session (the shop found and checked), the
queries, the daily job's core, verify, the run log, health, the digest, grants and the
demo shop. May import schema, shop, db, deliver, config and the leaves; never render, the
CLI or jobs. Re-exports nothing."""
