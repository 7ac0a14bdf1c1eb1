"""Step 2b: read the arrays of an NPZ archive or a PyTorch ``.pt`` file, never unpickling.

Both give a dict of numpy arrays by name; which of them are scores, labels and class names is
decided in :mod:`thresholdlab.loading.raw`.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np

from thresholdlab.predictions import DataError


def read_npz(data: bytes, file: str) -> dict[str, Any]:
    """Arrays of an NPZ archive; pickled (object) arrays are refused, never loaded."""
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except MemoryError:
        raise
    except Exception:
        raise DataError(
            f"File '{file}' is not a valid NPZ file; "
            "save it with numpy.savez(path, scores=..., labels=...)."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(
            f"File '{file}' holds a single array, not an NPZ archive; "
            "save it with numpy.savez(path, scores=..., labels=...)."
        )
    arrays = {}
    with archive:
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except MemoryError:
                raise
            except ValueError:
                raise DataError(
                    f"File '{file}', array '{key}' holds Python objects, which are never "
                    "unpickled; save numbers, and class names as a string array."
                ) from None
            except Exception:
                raise DataError(
                    f"File '{file}', array '{key}' is damaged; save the file again."
                ) from None
    return arrays


def read_pt(data: bytes, file: str, notes: list[str] | None = None) -> dict[str, Any]:
    """A dict of tensors from ``torch.save``, loaded with ``weights_only=True`` only.

    A list of tensors (an evaluation loop's outputs, batch by batch) is read as their rows one
    after the other, as ``torch.cat`` joins them, with a sentence in ``notes``.
    """
    # torch.save writes a zip archive since PyTorch 1.6, a pickle before (and when asked to).
    if not data.startswith((b"PK\x03\x04", b"\x80")):
        raise DataError(
            f"File '{file}' is not a valid PyTorch file; "
            "save it with torch.save({'scores': ..., 'labels': ...}, path)."
        )
    try:
        import torch  # lazily: most users never open a .pt file, and torch is slow to import
    except ImportError:
        raise DataError(
            f"Reading '{file}' needs PyTorch; install it (pip install torch) or save the "
            "scores and labels as .npz."
        ) from None
    try:
        with warnings.catch_warnings():  # torch's own advice is for its API, not for users
            warnings.simplefilter("ignore")
            obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except MemoryError:
        raise
    except Exception as exc:
        if "global" not in str(exc).lower():  # a class or function refused by weights_only
            raise DataError(
                f"File '{file}' is not a valid PyTorch file; "
                "save it with torch.save({'scores': ..., 'labels': ...}, path)."
            ) from None
        raise DataError(
            f"File '{file}' could not be loaded safely: only tensors, numbers, strings, lists "
            "and dicts are read, never other Python objects; "
            "save {'scores': tensor, 'labels': tensor, 'classes': [names]} with torch.save."
        ) from None
    if not isinstance(obj, dict):
        raise DataError(
            f"File '{file}' holds a {type(obj).__name__}, not a dict; "
            "save {'scores': tensor, 'labels': tensor} with torch.save."
        )
    arrays = {}
    # One list kept batch by batch makes every list of tensors one (labels batched as (B,)
    # beside scores batched as (B, K)).
    batched = any(_batches(value, torch) for value in obj.values())
    for key, value in obj.items():
        if batched and _tensor_list(value, torch):
            value = _joined(value, torch, file, str(key), notes)
        if isinstance(value, torch.Tensor):
            if value.is_meta:
                raise DataError(
                    f"File '{file}', tensor '{key}' holds no values (it is on the meta device); "
                    "save the tensor computed on the CPU or a GPU."
                )
            value = value.detach().cpu()
            if value.layout != torch.strided:
                value = value.to_dense()  # a sparse tensor's values, zeros included
            # float32 stays float32 (exact, half the memory), as for NPZ and Parquet; bfloat16
            # has no numpy equivalent, and float16 scores are widened as every other format does.
            if value.is_floating_point() and value.dtype not in (torch.float32, torch.float64):
                value = value.to(torch.float64)
            value = value.numpy()
        arrays[str(key)] = value
    return arrays


def _batches(value, torch) -> bool:
    """A list of tensors that an evaluation loop kept batch by batch: each of two or more
    dimensions (a batch of rows), or of one dimension with lengths that differ (a batch of
    binary scores, the last one shorter). One-dimensional tensors of one length are rows of
    their own (one sample's scores each), read as numpy reads the list."""
    if not _tensor_list(value, torch):
        return False
    return any(v.dim() > 1 for v in value) or len({v.shape[0] for v in value}) > 1


def _tensor_list(value, torch) -> bool:
    """A list of tensors of one dimension or more."""
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, torch.Tensor) and v.dim() >= 1 for v in value))


def _joined(value, torch, file: str, key: str, notes: list[str] | None):
    """The batches' rows one after the other (``torch.cat``), never stacked into a batch
    dimension that would read as classes."""
    shapes = {tuple(v.shape[1:]) for v in value}
    if len(shapes) > 1:
        raise DataError(
            f"File '{file}', tensor list '{key}': its {len(value)} tensors differ past their "
            "first dimension; save one tensor, torch.cat of the batches."
        )
    if notes is not None and len(value) > 1:
        notes.append(f"The {len(value)} tensors in '{key}' are read as their rows one after "
                     "the other, as torch.cat joins batches.")
    return torch.cat([v.detach().cpu().to_dense() if v.layout != torch.strided
                      else v.detach().cpu() for v in value], dim=0)
