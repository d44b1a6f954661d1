"""Privacy: what of a buyer the other side may see. Pure functions here; models arrive with the privacy issue."""
