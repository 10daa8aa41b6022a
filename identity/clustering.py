"""Connected components over match edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def cluster_labels(record_count: int, edges: pd.DataFrame) -> np.ndarray:
    """A component label per record (0..k-1); records without edges are their own component."""
    if record_count == 0:
        return np.zeros(0, dtype=np.int64)
    left = edges["left_index"].to_numpy(dtype=np.int64)
    right = edges["right_index"].to_numpy(dtype=np.int64)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(record_count, record_count))
    _, labels = connected_components(graph, directed=False)
    return labels
