"""Size limits TensorFlow and TensorFlow Serving enforce, in one place."""

PROTO_LIMIT = 2**31 - 1  # protobuf cannot serialize or parse a message of 2 GiB or more
INT64_MAX = 2**63 - 1  # TensorFlow's dimensions and version numbers are int64
SERVING_PB_LIMIT = 2**30  # some TensorFlow Serving versions refuse a larger saved_model.pb
