"""Writers: frozen GraphDefs (graphdef.py) and versioned SavedModels (saved_model/), each published atomically."""
