"""Reminders: due soon, overdue, a submission waiting past the mentors' turnaround target, and
the trainers' weekly summary; sent by the worker, once each (app/reminders/models.py)."""
