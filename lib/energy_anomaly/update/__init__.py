"""The daily mode: new raw files -> only the rows of every table that depend on them."""
