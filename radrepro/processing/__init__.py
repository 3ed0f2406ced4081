"""IBSI image processing: interpolation, re-segmentation, discretisation (IBSI 1, chapter 2).

:func:`prepare` turns an image and its mask into a :class:`ROI` that every feature family reads.
"""

from radrepro.processing.roi import ROI, prepare

__all__ = ["ROI", "prepare"]
