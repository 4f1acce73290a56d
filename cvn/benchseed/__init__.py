"""``flask cvn bench-seed``: a deterministic regional-scale dataset for the load benchmark."""
