"""Completion certificates: codes, the printable PDF, the signed credential, the offline token.

The modules here are pure (no Flask, no database): configuration and keys come in as
arguments. Issuing, routes and the CLI build on them.
"""
