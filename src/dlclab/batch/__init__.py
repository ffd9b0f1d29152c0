"""Batch clusters (Slurm): a local test cluster, see docs/batch.md."""
