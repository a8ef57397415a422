"""The run as plain functions: prepare (ingest, plan, diff), produce a SKU, generate hosted clips, publish, finalize."""
