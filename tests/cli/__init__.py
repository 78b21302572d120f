"""Tests of the command line (sangkien/cli/)."""
