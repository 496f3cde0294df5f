"""Matrix products and table lookups -> ONNX: ``Linear`` (Gemm for 2-D inputs, MatMul + Add otherwise),
``MatMul``, and the embedding lookup (Gather rows of the table)."""


def linear(g, node, x, weight, bias):
    """y = x W^T + b: one Gemm (transB) for (N, in) inputs; MatMul with W^T, then Add b, for (*, in)."""
    inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
    if x.ndim == 2:
        return g.add("Gemm", inputs, transB=1)
    product = g.add("MatMul", [inputs[0], g.add("Transpose", [inputs[1]], perm=[1, 0])])
    return g.add("Add", [product, inputs[2]]) if bias is not None else product


def matmul(g, node, a, b):
    return g.add("MatMul", [g.value(a), g.value(b)])


def embedding(g, node, weight, indices, padding_idx, scale_grad_by_freq):
    """Rows of the table: Gather(weight, indices) along axis 0 (padding_idx only matters to the gradient)."""
    return g.add("Gather", [g.value(weight), g.value(indices)], axis=0)


MAPPINGS = {"Linear": linear, "MatMul": matmul, "EmbeddingLookup": embedding}
