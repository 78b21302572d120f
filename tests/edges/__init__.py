"""Tests of the edges: connectors/ (every kind, the tabular reader) and the conformance suite."""
