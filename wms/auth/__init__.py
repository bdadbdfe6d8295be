"""Users, roles, API keys and password hashing."""
