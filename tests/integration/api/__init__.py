"""The JSON API on PostgreSQL, through FastAPI's test client."""
