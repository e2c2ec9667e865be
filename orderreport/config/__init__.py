"""What the user declared, validated before any connection: settings.py (the config file,
the environment and the flags, with every default and bound), sources.py and platforms/
(where a shop's orders come from), urls.py (a database URL, read by libpq), redact.py (what
no message may show). Imports only the leaves (errors, columns); re-exports nothing."""
