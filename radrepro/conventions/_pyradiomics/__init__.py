"""pyradiomics 3.0.1 definitions, one module per pyradiomics feature class.

Each class module has ``NAME`` (the pyradiomics class name), ``FEATURES`` (feature name ->
``"enabled"``, ``"deprecated"`` (computed only when asked for by name) or ``"removed"``
(pyradiomics raises for it and returns nothing)) and ``compute(data, names) -> dict`` where ``data``
is a :class:`~radrepro.conventions._pyradiomics.common.ClassInput`.
"""
