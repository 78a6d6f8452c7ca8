"""Labs: the model, the loader that validates lab.yaml, and the catalog that finds labs."""
