"""Turning values into verdicts people can act on: comparison, cause hints, and redaction of hidden cases."""
