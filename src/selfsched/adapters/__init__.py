"""Implementations of the ports in :mod:`selfsched.ports` that users can start with."""
