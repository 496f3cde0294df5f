"""The op mappings: Function class name -> ``mapping(g, node, *args, **kwargs)`` writing its ONNX nodes (see
``graph.GraphBuilder``). One file per family; adding an op is adding a row to its family's ``MAPPINGS``.
``REFUSALS``: ops known to have no ONNX form -> the reason, said instead of "no mapping is known"."""

from . import conv, elementwise, linear, normalization, recurrent, shape

MAPPINGS = {}
for _family in (elementwise, linear, conv, normalization, shape, recurrent):
    MAPPINGS.update(_family.MAPPINGS)
REFUSALS = dict(recurrent.REFUSALS)
