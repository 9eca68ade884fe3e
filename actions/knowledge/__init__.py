"""Answers beyond the catalog: the knowledge base (base.py), the LLM (llm.py), their actions."""
