"""Training: a stratified sample of complete household-days -> a model bundle."""
