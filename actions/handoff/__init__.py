"""Handing the conversation to a person (actions.py)."""
