"""The live catalog: the cars, their descriptions and search index, and the CSV import."""
