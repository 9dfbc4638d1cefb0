"""Ways of merging ranked lists."""
