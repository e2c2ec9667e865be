"""Out of the process: the run's metrics (textfile, Pushgateway), the webhook, the notify
URLs (email and chats). May import the leaves and config (redact); nothing above."""
