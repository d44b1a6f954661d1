"""Privacy: what of a buyer the other side may see.

`shapes` and `masking` are pure (the shapes of personal data; masking a buyer's data however it is
written); `selectors` gathers what the platform knows of a buyer and is the one way every seller
surface masks (`mask_for_seller`).
"""
