"""Tests of the serve floor (sangkien/serve/): the intake, the API, the dashboard."""
