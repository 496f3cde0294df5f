"""``ganglion.io``: safetensors weight files and model files, always written atomically and never pickled; read
with every size, shape and field checked before anything is allocated (the bounds are in ``limits.py``)."""

from .architecture import module_from_config, module_to_config, register
from .atomic import atomic_write_bytes
from .model_file import load_model, save_model
from .checkpoint import load, save
from .weights import load_with_metadata
