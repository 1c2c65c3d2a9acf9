"""The TensorFlow boundary: the one package that imports tensorflow or keras (tracing, op
definitions, protos, sessions). Everything else reaches TensorFlow through these modules.
"""
