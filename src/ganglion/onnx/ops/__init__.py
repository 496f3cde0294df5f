"""The op mappings: Function class name -> ``mapping(g, node, *args, **kwargs)`` writing its ONNX nodes (see
``graph.GraphBuilder``). One file per family; adding an op is adding a row to its family's ``MAPPINGS``."""

from . import conv, elementwise, linear, normalization, recurrent, shape

MAPPINGS = {}
for _family in (elementwise, linear, conv, normalization, shape, recurrent):
    MAPPINGS.update(_family.MAPPINGS)
