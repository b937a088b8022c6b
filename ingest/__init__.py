"""Ingest: media checks, the object store, the database and the job queue."""
