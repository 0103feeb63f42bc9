"""The lab, apart from the product: damage clean texts (`corrupt`), repair them, and score each edit
against the damage that was done (`score`, `bench`)."""
