"""The customer's rights over their data: no messages started by the business (BAJA / ALTA),
what is kept about them, and deleting it."""
