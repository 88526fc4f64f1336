"""Local Sphinx extensions of the selfsched docs (added to sys.path by conf.py)."""
