"""MSAT: the 1-5 score (msat.py) and its form (actions.py)."""
