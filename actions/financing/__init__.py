"""Financing: amortization plans (plan.py) and the financing form (forms.py)."""
