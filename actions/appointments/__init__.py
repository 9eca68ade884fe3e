"""Visits: opening hours (times.py), bookings (store.py), reminders, and the form (actions.py)."""
