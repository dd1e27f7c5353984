"""Sources: readers that land what schools already have in the warehouse's raw layer."""
