"""Jinja2 templates shipped with modernize."""
