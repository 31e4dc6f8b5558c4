"""monitor: a streaming news-alert service.

Articles flow one way: consume -> parse -> match -> enrich -> story -> publish -> deliver.
Each stage is a module of its own; the pure ones (``article``, ``text``, ``engine``, ``enrich``)
never touch the network, so the worker, ``monitor match``, the rule tests and the benchmarks all
run the same code.
"""

__version__ = "0.1.0"
