"""The adapter tests: one store contract for every backend, SMTP against a real server."""
