"""Background work: scheduled jobs, the Celery app, and the in-process runner of the embedded default."""
