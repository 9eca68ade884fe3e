"""Custom actions of the Kavak sales assistant, one module per capability."""
