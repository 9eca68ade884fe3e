"""The customer's rights over their data: no messages started by the business (BAJA / ALTA),
what is kept about them, and deleting it."""

# The action that deletes the customer's data and restarts the conversation; the tracker
# store (stores/tracker_store.py) keeps nothing of its turn before the restart.
DELETE_MY_DATA_ACTION = "action_delete_my_data"
