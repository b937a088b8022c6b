"""The HTTP API (FastAPI): uploads, submission status, the officer's review queue."""
