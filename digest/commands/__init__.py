"""Extra CLI commands, one module each, every module with ``register(app)``; loaded by ``digest.cli``.

Modules here define commands only and import heavy libraries inside the command functions.
"""
