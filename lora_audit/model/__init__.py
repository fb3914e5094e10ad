"""Stage 1, the model: locate its ``config.json`` (``locate``: on disk ``local``, on the hub ``hub``, through a
pipeline or sentence-transformers ``wrappers``), then build it weightless on the meta device (``build``, with one
builder per library in ``libraries/``). The ``catalogue/`` bundles real published configs for offline use.
"""
