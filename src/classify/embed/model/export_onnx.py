"""Writes the lacuna-embed encoder as an ONNX graph with onnx.helper (no torch needed):
input_ids, attention_mask [batch, seq] int64 -> sentence_embedding [batch, dim] float,
the attention-masked mean of the token embeddings (sentence-transformers mean pooling).
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def export(E, path):
    E = np.ascontiguousarray(E, dtype=np.float32)
    dim = E.shape[1]
    # Masked sum as one batched MatMul, mask [B,1,T] x tokens [B,T,D] -> [B,1,D]: no
    # materialised masked copy of the token embeddings, about half the work of Mul + ReduceSum.
    nodes = [
        helper.make_node("Gather", ["embeddings", "input_ids"], ["tok"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis1"], ["mask_row"]),
        helper.make_node("MatMul", ["mask_row", "tok"], ["summed3"]),
        helper.make_node("Squeeze", ["summed3", "axis1"], ["summed"]),
        helper.make_node("ReduceSum", ["maskf", "axis1"], ["count"], keepdims=1),
        # An all-padding row would divide by zero; clamp so it pools to zeros instead of NaN.
        helper.make_node("Max", ["count", "eps"], ["count_safe"]),
        helper.make_node("Div", ["summed", "count_safe"], ["sentence_embedding"]),
    ]
    inits = [
        numpy_helper.from_array(E, "embeddings"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.array([1e-9], np.float32), "eps"),
    ]
    graph = helper.make_graph(
        nodes, "lacuna-embed",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", dim])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="lacuna-fs train.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
