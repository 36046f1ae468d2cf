"""Cohorts: groups of learners with their mentors and trainers, the trainer's dashboard and reports.

A cohort ("YPP 2025 — Marneuli") has courses, dates, a municipality and a language. People join
it with one role each (learner, mentor or trainer); the same person may hold different roles in
different cohorts. The role provider in `access.py` answers `has_role()` for the rest of the app.
"""
