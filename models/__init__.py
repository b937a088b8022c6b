"""Model backends behind small interfaces (detector, plate detector, plate reader).

Nothing here loads at import time: backends are built through :mod:`models.registry`.
"""
