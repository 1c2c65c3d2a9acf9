"""File formats and fixed facts about them, written once: TensorFlow's DataType table, the
tensor-bundle (checkpoint) table format, .npz inputs, protobuf and Serving size limits.
"""
