"""Search: filters read from the message, the index query, and the replies (Rasa layer: actions.py)."""
