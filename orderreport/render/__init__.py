"""Text from plain data, no database: records (tables, JSON, CSV), the digest (text,
Markdown, JSON; the HTML page and chart), the email. May import the leaves, config and
the reports' plain dataclasses; never the database, the CLI or delivery."""
