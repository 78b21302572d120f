"""Serving: the intake API for the nodes below, and the dashboard with its static assets."""
