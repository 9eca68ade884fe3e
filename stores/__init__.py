"""Rasa tracker and lock stores; loaded by the Rasa server (rasa env), never by the action server."""
