"""Stateful tests: a package, so helpers import as ``stateful.<module>`` from any test."""
