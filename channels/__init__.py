"""Custom Rasa input channels; loaded by the Rasa server (rasa env), never by the action server."""
